// The naive peer: the least a browser terminal can be, node-pty and ws with
// nothing between them (no flow control, no history, no auth), one `bash --norc`
// per connection. It shows what our protocol and proxy cost over the bare parts.
// Usage: node naive-server.js <port>
import * as pty from 'node-pty';
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2]);
const server = new WebSocketServer({ host: '127.0.0.1', port });
server.on('connection', (socket) => {
  const term = pty.spawn('bash', ['--norc'], {
    name: 'xterm-256color',
    cols: 80,
    rows: 24,
    cwd: process.env.HOME ?? '/',
    env: process.env as Record<string, string>,
    encoding: null,
  } as pty.IPtyForkOptions);
  term.onData((data) => socket.send(data));
  term.onExit(() => socket.close());
  socket.on('message', (data: Buffer) => term.write(data as unknown as string));
  socket.on('close', () => term.kill('SIGHUP'));
});
server.on('listening', () => process.stdout.write('listening\n'));
