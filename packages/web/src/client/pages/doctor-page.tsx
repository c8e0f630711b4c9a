/** `q doctor` in the browser: why tasks are not running, each finding with its evidence and what to do. */
import type { DoctorResponse, FindingActionView } from '../../api-types';
import { ActionButton, Badge, Loading, When } from '../components';
import { queueHref } from '../config';
import { useApi } from '../live';

export function DoctorPage() {
  // A diagnosis reads more than a page of figures: it is refreshed every 10 s at most.
  const state = useApi<DoctorResponse>('/doctor', { interval: 10_000 });
  return (
    <section>
      <h1>Doctor</h1>
      <Loading state={state}>
        {(data) => (
          <>
            <p class={data.healthy ? 'healthy' : 'unhealthy'}>
              {data.healthy ? 'Healthy: nothing keeps tasks from running.' : 'Problems found.'}{' '}
              <span class="muted">
                Checked {data.queues.length} queue{data.queues.length === 1 ? '' : 's'} and {data.servers}{' '}
                server
                {data.servers === 1 ? '' : 's'} <When iso={data.checkedAt} />.
              </span>
            </p>
            {data.findings.map((finding, index) => (
              <article
                key={`${finding.code}-${index}`}
                class={`finding ${finding.severity}`}
                data-code={finding.code}
              >
                <header>
                  <Badge value={finding.severity} /> <strong>{finding.summary}</strong>{' '}
                  <code class="muted">{finding.code}</code>
                  {finding.queue ? (
                    <>
                      {' '}
                      · <a href={queueHref(finding.queue)}>queue {finding.queue}</a>
                    </>
                  ) : null}
                  {finding.server ? <span class="muted"> · server {finding.server}</span> : null}
                </header>
                {finding.evidence.length > 0 ? (
                  <ul class="evidence">
                    {finding.evidence.map((line, lineIndex) => (
                      <li key={lineIndex}>{line}</li>
                    ))}
                  </ul>
                ) : null}
                {finding.actions.length === 1 ? (
                  <p class="todo">
                    <strong>What to do:</strong>{' '}
                    <ActionText action={finding.actions[0]!} refresh={state.refresh} />
                  </p>
                ) : (
                  <div class="todo">
                    <strong>What to do:</strong>
                    <ul>
                      {finding.actions.map((action, actionIndex) => (
                        <li key={actionIndex}>
                          <ActionText action={action} refresh={state.refresh} />
                        </li>
                      ))}
                    </ul>
                  </div>
                )}
              </article>
            ))}
            {data.skipped.length > 0 ? (
              <div class="skipped">
                <h2>Not checked</h2>
                <ul>
                  {data.skipped.map((line) => (
                    <li key={line}>{line}</li>
                  ))}
                </ul>
              </div>
            ) : null}
          </>
        )}
      </Loading>
    </section>
  );
}

/** An action's words, with the page's own button when there is one (none in read-only mode). */
function ActionText({ action, refresh }: { action: FindingActionView; refresh: () => void }) {
  return (
    <>
      {action.text}
      {action.kind === 'resume-queue' && action.queue !== undefined ? (
        <>
          {' '}
          <ActionButton
            path={`/queues/${encodeURIComponent(action.queue)}/resume`}
            label="Resume"
            onDone={refresh}
          />
        </>
      ) : null}
    </>
  );
}
