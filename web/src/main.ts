// The web app's entry: routes and the start (docs/web-app.md).
import './styles.css';
import { renderAudit } from './pages/audit';
import { renderChart } from './pages/chart';
import { renderFeed } from './pages/feed';
import { renderMeasures } from './pages/measures';
import { renderSearch } from './pages/search';
import { renderTerminology } from './pages/terminology';
import { renderWorklist } from './pages/worklist';
import { pageReady, route, start } from './router';
import { signIn } from './smart';

route('/', 'patients', (main) => {
  renderSearch(main);
  pageReady('Patients');
});
route('/patient/:id', 'patients', renderChart);
route('/worklist', 'worklist', renderWorklist);
route('/terminology', 'terminology', renderTerminology);
route('/feed', 'feed', renderFeed);
route('/audit', 'audit', renderAudit);
route('/measures', 'measures', renderMeasures);

void signIn().then((ready) => {
  if (ready) start();
});
