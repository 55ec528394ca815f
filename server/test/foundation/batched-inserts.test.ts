import mongoose from 'mongoose';
import { BatchedInserts } from '../../src/db/batched-inserts';
import { useTestDatabase } from '../support/database';

useTestDatabase(__filename);

const Row = mongoose.model('BatchedRow', new mongoose.Schema({ _id: String, note: String, nested: mongoose.Schema.Types.Mixed }, { versionKey: false }));

describe('batched inserts', () => {
  it('tells each caller of one batch its own outcome: inserted, or duplicate for an _id that exists', async () => {
    await Row.create({ _id: 'taken' });
    const inserts = new BatchedInserts<{ _id: string }>(() => Row);
    const writes = jest.spyOn(Row.collection, 'insertMany');
    const outcomes = await Promise.all(['a', 'taken', 'b', 'c'].map((id) => inserts.insert({ _id: id })));
    expect(outcomes).toEqual(['inserted', 'duplicate', 'inserted', 'inserted']);
    expect(writes.mock.calls.length).toBeLessThanOrEqual(2); // the first alone, the rest together
    expect(await Row.countDocuments()).toBe(4);
    writes.mockRestore();
  });

  it('leaves undefined fields out, at any depth, as mongoose would (the driver alone would store null)', async () => {
    const inserts = new BatchedInserts<{ _id: string; note?: string; nested: { kept: number; gone?: string } }>(() => Row);
    await inserts.insert({ _id: 'u', note: undefined, nested: { kept: 1, gone: undefined } });
    expect(await Row.collection.findOne({ _id: 'u' } as never)).toEqual({ _id: 'u', nested: { kept: 1 } });
  });
});
