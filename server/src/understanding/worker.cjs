// Worker threads do not inherit tsx's loader from the process that starts them: register it, then run the
// TypeScript worker.
require('tsx/cjs');
require('./worker.ts');
