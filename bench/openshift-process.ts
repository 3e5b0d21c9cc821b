// The simulated OpenShift (test/harness/openshift.ts) in a process of its own,
// for figures taken while the auth proxy talks to it: its TLS and token work
// then does not share an event loop with the benchmark's measuring clients, as a
// real cluster would not. Started with fork(); talks over the IPC channel.
import { startOpenShift } from '../test/harness/openshift.js';

/** What the parent sends. */
export type OpenShiftRequest = { kind: 'route'; url: string } | { kind: 'count' } | { kind: 'close' };

/** What this process sends: its facts once started, then one answer per request, of its kind. */
export type OpenShiftMessage =
  | { kind: 'started'; port: number; url: string; serviceAccountDir: string; caPem: string }
  | { kind: 'route' }
  | { kind: 'count'; tlsConnections: number }
  | { kind: 'close' };

const send = (message: OpenShiftMessage, then = () => {}) => process.send?.(message, () => then());

// alice is an admin of the project: the user who logs in and types during a flood.
const openshift = await startOpenShift({ serviceAccount: 'terminal-user' });
openshift.rbac.admins.add('alice');
let closing: Promise<void> | undefined;
const close = () => {
  closing ??= openshift.close();
  return closing;
};
process.on('message', async (request: OpenShiftRequest) => {
  if (request.kind === 'route') {
    openshift.setRoute(request.url);
    send({ kind: 'route' });
  } else if (request.kind === 'count') {
    send({ kind: 'count', tlsConnections: openshift.tlsConnections });
  } else {
    await close();
    send({ kind: 'close' }, () => process.exit(0));
  }
});
// The parent gone without a word: nothing left to serve.
process.on('disconnect', () => {
  void close().then(() => process.exit(0));
});
send({
  kind: 'started',
  port: openshift.port,
  url: openshift.url,
  serviceAccountDir: openshift.serviceAccountDir,
  caPem: openshift.caPem,
});
