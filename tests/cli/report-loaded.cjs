// Preloaded with --require: on exit, lists the CommonJS modules that were loaded, so a test
// can prove that a command did not load cdktf, Pulumi or the AWS provider.
process.on('exit', () => {
  const loaded = Object.keys(require.cache).filter((p) => /node_modules\/(cdktf|@cdktf|@pulumi|constructs|pg|ioredis)\//.test(p));
  process.stderr.write(`LOADED ${JSON.stringify(loaded.map((p) => p.replace(/.*node_modules\//, '')))}\n`);
});
