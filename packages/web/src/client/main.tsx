/** The dashboard's browser app: Preact pages over the handler's JSON API. */
import { render } from 'preact';
import { LocationProvider, Route, Router } from 'preact-iso';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { Layout, Notices } from './components';
import { config, href } from './config';
import { LiveProvider } from './live';
import { DoctorPage } from './pages/doctor-page';
import { QueuePage } from './pages/queue-page';
import { QueuesPage } from './pages/queues-page';
import { RedisPage } from './pages/redis-page';
import { SchedulersPage } from './pages/schedulers-page';
import { SearchPage } from './pages/search-page';
import { ServersPage } from './pages/servers-page';
import { TaskPage } from './pages/task-page';

function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        This page does not exist. <a href={href('/')}>Go to the queues</a>.
      </p>
    </section>
  );
}

function App() {
  return (
    <LiveProvider>
      <LocationProvider scope={config.basePath || undefined}>
        <Layout>
          <Router>
            <Route path={href('/')} component={QueuesPage} />
            <Route path={href('/queues/:queue')} component={QueuePage} />
            <Route path={href('/queues/:queue/tasks/:id')} component={TaskPage} />
            <Route path={href('/servers')} component={ServersPage} />
            <Route path={href('/schedulers')} component={SchedulersPage} />
            <Route path={href('/redis')} component={RedisPage} />
            <Route path={href('/doctor')} component={DoctorPage} />
            <Route path={href('/search')} component={SearchPage} />
            <Route default component={NotFound} />
          </Router>
        </Layout>
        <Notices />
      </LocationProvider>
    </LiveProvider>
  );
}

document.title = config.title;
render(<App />, document.getElementById('app')!);
