// The import direction of ../shared/ARCHITECTURE.md, enforced: cli -> workshop -> runtime table ->
// engines -> catalog, probes -> model; templates (programs shipped into labs) import nothing of
// labforge. Type-only and lazy (`await import`) imports count like any other: a type import
// against the direction still ties the layers together. `npm run lint` runs this.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'No file reaches itself through its imports.', from: {}, to: { circular: true } },
    {
      name: 'model-is-the-bottom',
      severity: 'error',
      comment: 'constructs/model holds types, plans and rules; it imports nothing else of labforge.',
      from: { path: '^constructs/model/' },
      to: { path: '^(cli|labs|health|templates|constructs/(?!model/))' },
    },
    {
      name: 'health-probes-only-use-the-model',
      severity: 'error',
      comment: 'health/ probes take an endpoint; they know no engine, target or command.',
      from: { path: '^health/' },
      to: { path: '^(cli|labs|templates|constructs/(?!model/))' },
    },
    {
      name: 'catalog-is-data',
      severity: 'error',
      comment: 'labs/ is data: it imports the model, never an engine.',
      from: { path: '^labs/' },
      to: { path: '^(cli|health|templates|constructs/(?!model/))' },
    },
    {
      name: 'templates-import-nothing-of-labforge',
      severity: 'error',
      comment: 'templates/ are programs shipped into labs (ConfigMaps, VMs): they run without labforge.',
      from: { path: '^templates/' },
      to: { path: '^(cli|labs|health|constructs)/' },
    },
    {
      name: 'engines-never-reach-up',
      severity: 'error',
      comment: 'An engine never imports the runtime table, workshops, exercise checks or the CLI.',
      from: { path: '^constructs/(local|k8s|aws|pulumi|terraform|sweep|aws-sdk)/' },
      to: { path: '^(cli/|constructs/(runtime|workshop|exercises)/)' },
    },
    {
      name: 'engine-local-stays-apart',
      severity: 'error',
      comment: 'An engine never reads another: local imports no other engine.',
      from: { path: '^constructs/local/' },
      to: { path: '^constructs/(k8s|aws|pulumi|terraform|sweep|aws-sdk)/' },
    },
    {
      name: 'engine-k8s-stays-apart',
      severity: 'error',
      comment: 'An engine never reads another: k8s imports no other engine.',
      from: { path: '^constructs/k8s/' },
      to: { path: '^constructs/(local|aws|pulumi|terraform|sweep|aws-sdk)/' },
    },
    {
      name: 'engine-aws-stays-apart',
      severity: 'error',
      comment:
        "An engine never reads another; aws may use k8s: the cdktf app adds the k8s engine's cluster-objects stack beside each lab stack.",
      from: { path: '^constructs/aws/' },
      to: { path: '^constructs/(local|pulumi|terraform|sweep|aws-sdk)/' },
    },
    {
      name: 'engine-pulumi-stays-apart',
      severity: 'error',
      comment: 'An engine never reads another: pulumi imports no other engine.',
      from: { path: '^constructs/pulumi/' },
      to: { path: '^constructs/(local|k8s|aws|terraform|sweep|aws-sdk)/' },
    },
    {
      name: 'engine-terraform-stays-apart',
      severity: 'error',
      comment:
        'An engine never reads another; terraform may use aws, sweep, aws-sdk: the aws lifecycle drives the cdktf engine, the tag sweep and the AWS SDK clients.',
      from: { path: '^constructs/terraform/' },
      to: { path: '^constructs/(local|k8s|pulumi)/' },
    },
    {
      name: 'engine-sweep-stays-apart',
      severity: 'error',
      comment: 'An engine never reads another; sweep may use aws-sdk: the sweep lists and deletes through the shared AWS SDK clients.',
      from: { path: '^constructs/sweep/' },
      to: { path: '^constructs/(local|k8s|aws|pulumi|terraform)/' },
    },
    {
      name: 'engine-aws-sdk-stays-apart',
      severity: 'error',
      comment: 'An engine never reads another: aws-sdk imports no other engine.',
      from: { path: '^constructs/aws-sdk/' },
      to: { path: '^constructs/(local|k8s|aws|pulumi|terraform|sweep)/' },
    },
    {
      name: 'runtime-table-is-below-workshops',
      severity: 'error',
      comment: 'The runtime table serves the CLI and workshops; it never imports them.',
      from: { path: '^constructs/runtime/' },
      to: { path: '^(cli/|constructs/(workshop|exercises)/)' },
    },
    {
      name: 'exercises-check-labs-not-commands',
      severity: 'error',
      comment: 'Exercise checks read a running lab; they never import workshops, the runtime table or the CLI.',
      from: { path: '^constructs/exercises/' },
      to: { path: '^(cli/|constructs/(workshop|runtime)/)' },
    },
    {
      name: 'workshops-never-import-the-cli',
      severity: 'error',
      from: { path: '^constructs/workshop/' },
      to: { path: '^cli/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|tests|scripts|tools)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.mjs', '.js'] },
  },
};
