/**
 * Periodic tasks, enqueued by the scheduler. Run the demo more than once, or twice at the same time:
 * each tick is still enqueued exactly once.
 */
import type { Scheduler } from '@q/scheduler';
import { cleanExpiredSessions, dailySalesReport } from './task-definitions';

export function registerSchedules(scheduler: Scheduler): void {
  // Often enough to watch it happen in the demo's log.
  scheduler.register('@every 30s', { type: cleanExpiredSessions, payload: { olderThanHours: 24 } });
  // A realistic cron entry: every morning at six, Berlin time.
  scheduler.register('CRON_TZ=Europe/Berlin 0 6 * * *', {
    type: dailySalesReport,
    payload: { region: 'eu-central' },
  });
}
