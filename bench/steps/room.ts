// The `room` step: a room of users logging in at a real JupyterHub on one host.
import { room } from '../measure-room.js';
import type { Step } from './step.js';

export const roomStep: Step = {
  name: 'room',
  targets: ['room.working', 'room.leftovers'],
  run: ({ raw }) => room(raw),
};
