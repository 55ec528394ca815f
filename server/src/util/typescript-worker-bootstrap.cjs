// Worker threads do not inherit tsx's loader from the process that starts them: register it, then run the
// TypeScript module named by the first argument (see typescript-worker.ts).
require('tsx/cjs');
require(process.argv[2]);
