// cdktf app entry (`npx cdktf synth` after `npm run build`): every level with its default
// deployment. `new App()` reads the output directory cdktf-cli passes (CDKTF_OUTDIR) itself;
// this entry point is the only place of the engine that looks at the environment.
import { App } from 'cdktf';
import { resolveDeployment } from '../model/deployment.js';
import { allLabs } from '../../labs/index.js';
import { addLabStacks } from './synth.js';

const app = new App();
// LABFORGE_OWNER lets CI tag its stacks; otherwise the OS user, as the CLI does.
const owner = process.env.LABFORGE_OWNER;
addLabStacks(
  app,
  allLabs().map((lab) => resolveDeployment(lab, { owner })),
);
app.synth();
