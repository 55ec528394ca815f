import mongoose from 'mongoose';
import { BulkWriteErrors, bulkWriteUnordered, MAX_UPDATES_PER_COMMAND, type BulkWriteOperation } from '../../src/db/bulk-write';
import { writeErrorsOf } from '../../src/db/batched-inserts';
import { useTestDatabase } from '../support/database';

useTestDatabase(__filename);

const Counter = mongoose.model('BulkCounter', new mongoose.Schema({ _id: String, count: Number }, { versionKey: false }));

const increment = (id: string): BulkWriteOperation => ({ updateOne: { filter: { _id: id }, update: { $inc: { count: 1 } } } });

describe('unordered bulk writes', () => {
  it('updates more existing documents than one FerretDB update command can hold (it waited for ever at 100)', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => `c${i}`);
    await Counter.insertMany(ids.map((_id) => ({ _id, count: 0 })));
    await bulkWriteUnordered(Counter, ids.map(increment));
    expect(await Counter.countDocuments({ count: 1 })).toBe(150);
  });

  it('sends inserts together and updates in commands no larger than the limit', async () => {
    const calls: number[] = [];
    const target = { bulkWrite: async (operations: never[]) => { calls.push(operations.length); } };
    const updates = Array.from({ length: 2 * MAX_UPDATES_PER_COMMAND + 1 }, (_, i) => increment(`u${i}`));
    await bulkWriteUnordered(target, [{ insertOne: { document: { _id: 'a' } } }, ...updates, { insertOne: { document: { _id: 'b' } } }]);
    expect(calls).toEqual([2, MAX_UPDATES_PER_COMMAND, MAX_UPDATES_PER_COMMAND, 1]);
    expect(MAX_UPDATES_PER_COMMAND).toBeGreaterThan(1);
    expect(MAX_UPDATES_PER_COMMAND).toBeLessThan(100);
  });

  it('goes on after refused operations and names them by their position in the whole list', async () => {
    let command = 0;
    const target = {
      bulkWrite: async () => {
        command++;
        // The second update command refuses its first operation, as the driver reports it.
        if (command === 2) throw Object.assign(new Error('E11000'), { writeErrors: [{ index: 0, code: 11000 }] });
      },
    };
    const operations = Array.from({ length: MAX_UPDATES_PER_COMMAND * 2 + 3 }, (_, i) => increment(`r${i}`));
    const err = await bulkWriteUnordered(target, operations).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BulkWriteErrors);
    expect(writeErrorsOf(err)).toEqual([{ index: MAX_UPDATES_PER_COMMAND, code: 11000 }]);
    expect(command).toBe(3);
  });

  it('stops at once on any other error', async () => {
    let commands = 0;
    const target = { bulkWrite: async () => { commands++; throw new Error('connection closed'); } };
    await expect(bulkWriteUnordered(target, Array.from({ length: 40 }, (_, i) => increment(`e${i}`)))).rejects.toThrow('connection closed');
    expect(commands).toBe(1);
  });
});
