/** Turns the inspector's records into the API's JSON: dates as ISO strings, bytes as cut previews. */
import type { TaskInfo } from '@q/core';
import type { Diagnosis, QueueInfo, SchedulerEntryInfo, ServerInfo } from '@q/inspector';
import { serverStateOf } from '@q/inspector';
import { describeFindingAction } from './describe-finding-action';
import type {
  Bytes,
  DoctorResponse,
  FindingActionView,
  QueueSummary,
  SchedulerEntrySummary,
  ServerSummary,
  TaskDetail,
  TaskSummary,
} from './api-types';

const iso = (date: Date | undefined): string | undefined => (date ? date.toISOString() : undefined);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Control characters other than tab, line feed and carriage return: such bytes are shown as hex. */
function hasControlCharacters(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f) return true;
  }
  return false;
}

/**
 * The first `limit` bytes as text (when they are UTF-8) and as hex. A cut in the middle of a multi-byte
 * character is moved back to the character's start.
 */
export function bytesPreview(bytes: Uint8Array, limit: number): Bytes {
  let shown = Math.min(bytes.length, limit);
  // Do not cut a UTF-8 sequence: while the first byte left out continues a character (10xxxxxx), leave
  // that character's earlier bytes out too.
  for (let steps = 0; shown < bytes.length && steps < 3 && (bytes[shown]! & 0xc0) === 0x80; steps += 1) {
    shown -= 1;
  }
  const head = bytes.subarray(0, shown);
  let text: string | undefined;
  try {
    const decoded = utf8.decode(head);
    if (!hasControlCharacters(decoded)) text = decoded;
  } catch {
    text = undefined;
  }
  const preview: Bytes = { size: bytes.length, isText: text !== undefined, hex: hexDump(head), shown };
  if (text !== undefined) preview.text = text;
  return preview;
}

function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += 16) {
    const row = bytes.subarray(offset, offset + 16);
    const hex = Array.from(row, (byte) => byte.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(row, (byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.'));
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii.join('')}`);
  }
  return lines.join('\n');
}

export function queueSummary(info: QueueInfo): QueueSummary {
  const { limits, ...counts } = info;
  const summary: QueueSummary = { ...counts, timestamp: info.timestamp.toISOString() };
  if (limits) {
    const { timestamp: _readAt, pausedUntil, ...rest } = limits;
    summary.limits = { ...rest, ...(pausedUntil ? { pausedUntil: pausedUntil.toISOString() } : {}) };
  }
  return summary;
}

export function taskSummary(task: TaskInfo, previewBytes: number): TaskSummary {
  const summary: TaskSummary = {
    id: task.id,
    queue: task.queue,
    type: task.type,
    state: task.state,
    payload: bytesPreview(task.payload, previewBytes),
    maxRetry: task.maxRetry,
    retried: task.retried,
    isOrphaned: task.isOrphaned,
  };
  if (task.lastError !== undefined) summary.lastError = task.lastError;
  if (task.lastFailedAt) summary.lastFailedAt = task.lastFailedAt.toISOString();
  if (task.nextProcessAt) summary.nextProcessAt = task.nextProcessAt.toISOString();
  if (task.completedAt) summary.completedAt = task.completedAt.toISOString();
  if (task.group !== undefined) summary.group = task.group;
  return summary;
}

export function taskDetail(task: TaskInfo, previewBytes: number): TaskDetail {
  const detail: TaskDetail = {
    ...taskSummary(task, previewBytes),
    headers: { ...task.headers },
    timeout: task.timeout,
    retention: task.retention,
  };
  if (task.deadline) detail.deadline = task.deadline.toISOString();
  if (task.result) detail.result = bytesPreview(task.result, previewBytes);
  return detail;
}

export function serverSummary(server: ServerInfo, previewBytes: number): ServerSummary {
  const overdue = new Set(server.lifecycle?.overdueTaskIds ?? []);
  const summary: ServerSummary = {
    id: server.id,
    serverId: server.serverId,
    host: server.host,
    pid: server.pid,
    concurrency: server.concurrency,
    queues: { ...server.queues },
    strictPriority: server.strictPriority,
    state: serverStateOf(server),
    status: server.status,
    startedAt: server.startedAt.toISOString(),
    activeWorkerCount: server.activeWorkerCount,
    activeWorkers: server.activeWorkers.map((worker) => ({
      taskId: worker.taskId,
      taskType: worker.taskType,
      queue: worker.queue,
      payload: bytesPreview(worker.payload, previewBytes),
      startedAt: worker.startedAt.toISOString(),
      deadline: worker.deadline.toISOString(),
      overdue: overdue.has(worker.taskId),
    })),
    expiresAt: server.expiresAt.toISOString(),
  };
  const lifecycle = server.lifecycle;
  if (lifecycle) {
    summary.lifecycle = {
      state: lifecycle.state,
      stateSince: lifecycle.stateSince.toISOString(),
      overdueTaskIds: [...lifecycle.overdueTaskIds],
    };
    if (lifecycle.lastSignal !== undefined) summary.lifecycle.lastSignal = lifecycle.lastSignal;
    if (lifecycle.lastSignalAt) summary.lifecycle.lastSignalAt = lifecycle.lastSignalAt.toISOString();
    if (lifecycle.lastFetchAt) summary.lifecycle.lastFetchAt = lifecycle.lastFetchAt.toISOString();
    if (lifecycle.brokerReachable !== undefined)
      summary.lifecycle.brokerReachable = lifecycle.brokerReachable;
    if (lifecycle.version !== undefined) summary.lifecycle.version = lifecycle.version;
  }
  return summary;
}

export function schedulerEntrySummary(
  entry: SchedulerEntryInfo,
  previewBytes: number,
): SchedulerEntrySummary {
  const summary: SchedulerEntrySummary = {
    id: entry.id,
    spec: entry.spec,
    taskType: entry.taskType,
    payload: bytesPreview(entry.payload, previewBytes),
    options: [...entry.options],
    nextEnqueueAt: entry.nextEnqueueAt.toISOString(),
    scheduler: { ...entry.scheduler },
  };
  const previous = iso(entry.previousEnqueueAt);
  if (previous) summary.previousEnqueueAt = previous;
  return summary;
}

export function doctorResponse(diagnosis: Diagnosis): DoctorResponse {
  return {
    checkedAt: diagnosis.checkedAt.toISOString(),
    queues: [...diagnosis.queues],
    servers: diagnosis.servers,
    healthy: diagnosis.healthy,
    skipped: [...diagnosis.skipped],
    findings: diagnosis.findings.map((finding) => {
      const view: DoctorResponse['findings'][number] = {
        code: finding.code,
        severity: finding.severity,
        summary: finding.summary,
        evidence: [...finding.evidence],
        actions: finding.actions.map((action) => {
          const view: FindingActionView = { kind: action.kind, text: describeFindingAction(action) };
          if (action.kind === 'resume-queue') view.queue = action.queue;
          return view;
        }),
      };
      if (finding.queue !== undefined) view.queue = finding.queue;
      if (finding.server !== undefined) view.server = finding.server;
      return view;
    }),
  };
}
