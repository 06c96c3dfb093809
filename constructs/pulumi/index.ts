// The Pulumi engine's public entry: what a generated Pulumi project (labforge synth --target
// pulumi) imports. Everything here builds on @pulumi/aws and @pulumi/random only.
export { LabforgeLab, type LabforgeLabArgs } from './lab.js';
