/** Finds a task by id in every queue. */
import { useRoute } from 'preact-iso';
import type { SearchResponse } from '../../api-types';
import { Loading } from '../components';
import { useApi } from '../live';
import { TaskTable } from './queue-page';

export function SearchPage() {
  const { query } = useRoute();
  const id = (query.id ?? '').trim();
  return (
    <section>
      <h1>Search</h1>
      {id === '' ? <p class="muted">Type a task id in the search box above.</p> : <Results id={id} />}
    </section>
  );
}

function Results({ id }: { id: string }) {
  const state = useApi<SearchResponse>(`/search?id=${encodeURIComponent(id)}`, { live: false });
  return (
    <Loading state={state}>
      {(data) =>
        data.matches.length === 0 ? (
          <p class="muted">
            No task <code>{data.id}</code> in any queue. Completed tasks stay only for their retention;
            deleted ones are gone.
          </p>
        ) : (
          <TaskTable tasks={data.matches} />
        )
      }
    </Loading>
  );
}
