import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent } from '../../src/agents/models';
import { issueStaffToken } from '../../src/agents/auth';
import { addDays, chinaDate } from '../../src/insurance/dates';
import { LocalDiskStorage } from '../../src/storage';
import { useTestDatabase } from '../support/database';
import { MOTHER, medicalOrderFor } from './support/people';
import { TEMPLATES, World } from './support/world';

useTestDatabase(__filename);

const DAY = 86_400_000;
const MEDICAL_ORDER = medicalOrderFor(MOTHER);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46]), Buffer.alloc(2_000, 7)]);
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(500, 1)]);
const PDF = Buffer.from('%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');
const upload = (kind: string, fileName: string, bytes: Buffer) => ({ kind, fileName, contentBase64: bytes.toString('base64') });

const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'claims-docs-'));
let world: World;
let token: string;
let staffToken: string;
let policyNumber: string;
let startsOn: string;

const today = () => chinaDate(world.now);
const staff = (method: string, url: string, body?: unknown) => world.api(method, `/api/staff/claims${url}`, { token: staffToken, body });

beforeAll(async () => {
  world = await World.start(new LocalDiskStorage(storageDir));
  const mother = await world.login();
  ({ policyNumber } = await world.buy(mother.token, MEDICAL_ORDER));
  startsOn = addDays(today(), 1);
  world.advance(40 * DAY); // past the 30-day waiting period
  ({ token } = await world.login({ openId: mother.openId }));
  await Agent.create({ _id: 'claims-zhang', name: '张理赔', role: 'agent' });
  staffToken = await issueStaffToken('claims-zhang');
});
afterAll(async () => {
  await world.stop();
  fs.rmSync(storageDir, { recursive: true, force: true });
});

describe('a claim from report to paid, with documents and notices', () => {
  let claimNumber: string;
  let photoUrl: string;

  it('is reported against a policy in force', async () => {
    const reported = await world.api('POST', '/api/mp/claims', {
      token,
      body: {
        policyId: policyNumber,
        incident: { kind: 'hospitalization', occurredOn: addDays(today(), -2), description: '急性阑尾炎住院手术', estimatedAmountFen: 2_000_000 },
        contactPhone: '13800138000',
      },
    });
    expect(reported.status).toBe(201);
    expect(reported.body).toMatchObject({ status: 'reported', statusLabel: '已报案', policyNumber, contactPhone: '138****8000', documents: [] });
    expect(reported.body.timeline).toEqual([expect.objectContaining({ status: 'reported', by: { kind: 'customer' } })]);
    claimNumber = reported.body.claimNumber;
    expect(claimNumber).toMatch(/^AXC\d{14}[0-9A-F]{8}$/);
  });

  it('refuses incidents outside the cover, in the future, or on a policy that is not yours', async () => {
    const base = { policyId: policyNumber, contactPhone: '13800138000' };
    const before = await world.api('POST', '/api/mp/claims', { token, body: { ...base, incident: { kind: 'accident', occurredOn: addDays(startsOn, -1), description: '出单前摔伤了腿' } } });
    expect(before).toMatchObject({ status: 422, body: { error: { code: 'not_covered', details: { fields: ['incident.occurredOn'] } } } });
    const future = await world.api('POST', '/api/mp/claims', { token, body: { ...base, incident: { kind: 'accident', occurredOn: addDays(today(), 1), description: '明天会摔伤' } } });
    expect(future.body.error.details.fields).toEqual(['incident.occurredOn']);
    const unknown = await world.api('POST', '/api/mp/claims', { token, body: { ...base, policyId: 'AXP20250310100000DEADBEEF', incident: { kind: 'accident', occurredOn: today(), description: '不是我的保单' } } });
    expect(unknown).toMatchObject({ status: 404, body: { error: { details: { fields: ['policyId'] } } } });
  });

  it('takes photos and PDFs, checked by their bytes and size', async () => {
    const photo = await world.api('POST', `/api/mp/claims/${claimNumber}/documents`, { token, body: upload('invoice', '发票.jpg', JPEG) });
    expect(photo.status).toBe(201);
    expect(photo.body).toMatchObject({ kind: 'invoice', contentType: 'image/jpeg', bytes: JPEG.length, fileName: '发票.jpg' });
    photoUrl = photo.body.url;
    const pdf = await world.api('POST', `/api/mp/claims/${claimNumber}/documents`, { token, body: upload('diagnosis', 'diagnosis.pdf', PDF) });
    expect(pdf.body.contentType).toBe('application/pdf');
    // The name says PDF, the bytes say PNG: the bytes win.
    const renamed = await world.api('POST', `/api/mp/claims/${claimNumber}/documents`, { token, body: upload('id_card', 'id.pdf', PNG) });
    expect(renamed.body.contentType).toBe('image/png');

    const text = await world.api('POST', `/api/mp/claims/${claimNumber}/documents`, { token, body: upload('other', 'note.jpg', Buffer.from('just some text, not an image')) });
    expect(text).toMatchObject({ status: 415, body: { error: { code: 'unsupported_document_type', details: { fields: ['contentBase64'] } } } });
    const huge = await world.api('POST', `/api/mp/claims/${claimNumber}/documents`, { token, body: upload('other', 'big.jpg', Buffer.concat([JPEG, Buffer.alloc(200_000)])) });
    expect(huge).toMatchObject({ status: 413, body: { error: { code: 'document_too_large' } } });
    const notBase64 = await world.api('POST', `/api/mp/claims/${claimNumber}/documents`, { token, body: { kind: 'other', fileName: 'x.jpg', contentBase64: '%%%' } });
    expect(notBase64.body.error.details.fields).toEqual(['contentBase64']);
    const badKind = await world.api('POST', `/api/mp/claims/${claimNumber}/documents`, { token, body: upload('selfie', 'x.jpg', JPEG) });
    expect(badKind.body.error.details.fields).toEqual(['kind']);

    const download = await world.api('GET', photoUrl, { token });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/jpeg');
    expect(download.bytes.equals(JPEG)).toBe(true);
    const onDisk = fs.readdirSync(path.join(storageDir, 'claims', claimNumber.toLowerCase()));
    expect(onDisk.filter((f) => !f.endsWith('.type'))).toHaveLength(3);
  });

  it('is moved by staff only, through allowed steps, each telling the customer', async () => {
    expect((await world.api('GET', '/api/staff/claims')).status).toBe(401);
    expect((await world.api('GET', '/api/staff/claims', { token })).status).toBe(401); // a customer token is not a staff token

    const queue = await staff('GET', '?status=reported');
    expect(queue.body.items.map((c: { claimNumber: string }) => c.claimNumber)).toContain(claimNumber);
    expect(queue.body.items[0]).toMatchObject({ withinWaitingPeriod: false, contactPhone: '13800138000' });

    const ask = await staff('POST', `/${claimNumber}/transitions`, { to: 'documents_needed', neededDocuments: ['费用清单', '出院小结'] });
    expect(ask.body).toMatchObject({ status: 'documents_needed', neededDocuments: ['费用清单', '出院小结'] });
    const skip = await staff('POST', `/${claimNumber}/transitions`, { to: 'paid', paymentReference: 'X' });
    expect(skip).toMatchObject({ status: 409, body: { error: { code: 'claim_transition_not_allowed', details: { fields: ['to'] } } } });
    const noAmount = await staff('POST', `/${claimNumber}/transitions`, { to: 'approved' });
    expect(noAmount.body.error.details.fields).toEqual(['approvedAmountFen']);

    // The customer sends what was asked and says so.
    await world.api('POST', `/api/mp/claims/${claimNumber}/documents`, { token, body: upload('expense_list', '费用清单.pdf', PDF) });
    const sent = await world.api('POST', `/api/mp/claims/${claimNumber}/submit`, { token });
    expect(sent.body).toMatchObject({ status: 'under_review', neededDocuments: [] });

    expect((await staff('POST', `/${claimNumber}/transitions`, { to: 'approved', approvedAmountFen: 999_999_999 })).body.error.details.fields).toEqual(['approvedAmountFen']);
    expect((await staff('POST', `/${claimNumber}/transitions`, { to: 'approved', approvedAmountFen: 1_500_000, note: '扣除免赔额后赔付' })).body.status).toBe('approved');
    const paid = await staff('POST', `/${claimNumber}/transitions`, { to: 'paid', paymentReference: 'BANK-20250420-001' });
    expect(paid.body).toMatchObject({ status: 'paid', paidAmountFen: 1_500_000, paymentReference: 'BANK-20250420-001' });

    const mine = await world.api('GET', `/api/mp/claims/${claimNumber}`, { token });
    expect(mine.body.timeline.map((t: { status: string }) => t.status)).toEqual(['reported', 'documents_needed', 'under_review', 'approved', 'paid']);
    expect(mine.body.timeline[1]).toMatchObject({ note: '请补充：费用清单、出院小结', by: { kind: 'staff', name: '安心保理赔' } });
    expect(mine.body).not.toHaveProperty('paymentReference');
    expect(mine.body.documents).toHaveLength(4);

    await world.insurance.notices.settled();
    const notices = world.subscriptionMessages(TEMPLATES.claimProgress);
    expect(notices.map((n) => (n.body.data as Record<string, { value: string }>).phrase2.value)).toEqual(['已报案', '待补材料', '审核中', '审核通过', '已赔付']);
    expect(notices.every((n) => n.body.page === `pages/claims/detail?id=${claimNumber}`)).toBe(true);

    const staffCopy = await world.api('GET', `/api/staff/claims/${claimNumber}/documents/${photoUrl.split('/').pop()}`, { token: staffToken });
    expect(staffCopy.bytes.equals(JPEG)).toBe(true);
    const late = await world.api('POST', `/api/mp/claims/${claimNumber}/documents`, { token, body: upload('other', 'late.jpg', JPEG) });
    expect(late).toMatchObject({ status: 409, body: { error: { code: 'claim_closed_for_documents' } } });
  });

  it('can be rejected with a reason; an illness in the waiting period is flagged for staff', async () => {
    const reported = await world.api('POST', '/api/mp/claims', {
      token,
      body: { policyId: policyNumber, incident: { kind: 'illness', occurredOn: addDays(startsOn, 5), description: '发烧门诊检查' }, contactPhone: '13800138000' },
    });
    const number = reported.body.claimNumber;
    expect((await staff('GET', `/${number}`)).body.withinWaitingPeriod).toBe(true);
    const rejected = await staff('POST', `/${number}/transitions`, { to: 'rejected', rejectionReason: '等待期内发病，不属于保险责任' });
    expect(rejected.body).toMatchObject({ status: 'rejected', rejectionReason: '等待期内发病，不属于保险责任' });
    const mine = await world.api('GET', `/api/mp/claims/${number}`, { token });
    expect(mine.body).toMatchObject({ status: 'rejected', statusLabel: '未通过', rejectionReason: '等待期内发病，不属于保险责任' });
    await world.insurance.notices.settled();
    expect(world.subscriptionMessages(TEMPLATES.claimProgress).slice(-1)[0].body.data).toMatchObject({ phrase2: { value: '未通过' } });
  });
});
