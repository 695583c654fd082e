// The same launcher tests through the Node launcher, the fallback where no C compiler was found at install.
import { launcherSuite } from './helpers/launcher-suite.js';

await launcherSuite('node');
