/** The settings the handler wrote into the page. */
import type { DashboardConfig } from '../api-types';

function readConfig(): DashboardConfig {
  const element = document.getElementById('q-config');
  if (!element?.textContent)
    throw new Error('The page has no #q-config element; it must be served by @q/web.');
  return JSON.parse(element.textContent) as DashboardConfig;
}

export const config: DashboardConfig = readConfig();

/** A path of the dashboard, under its base path. */
export const href = (path: string): string => `${config.basePath}${path}`;

export const queueHref = (queue: string, query = ''): string =>
  href(`/queues/${encodeURIComponent(queue)}${query}`);

export const taskHref = (queue: string, id: string): string =>
  href(`/queues/${encodeURIComponent(queue)}/tasks/${encodeURIComponent(id)}`);
