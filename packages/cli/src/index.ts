/**
 * `keyward`: the command line (`keyward keys …`, `keyward scan`, `keyward hook install`, `keyward secret`) and its
 * building blocks for programmatic use: the leak scanner and the secret generator.
 *
 * @packageDocumentation
 */
export { run, buildProgram, describeError } from './program';
export { processIO, CliError, type CliIO } from './io';
export { openStore, safeTarget, type StoreFlags, type OpenStore } from './store';
export { DETECTORS, githubChecksumOk, mask, type Detector, type RawMatch } from './scan/detectors';
export { scanText, ALLOW_MARKER, type Finding } from './scan/scan-text';
export { runScan, type ScanOptions, type ScanReport } from './scan/run-scan';
export { listFiles, isBinary, SKIPPED_DIRS } from './scan/files';
export { generateSecret, SECRET_TARGET, type SecretKind } from './commands/secret';
export { hookScript, HOOK_MARKER } from './commands/hook';
