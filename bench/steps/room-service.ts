// The `room-service` step: the room service (issue 25) under a room of attendees' events.
import { roomService } from '../measure-room-service.js';
import type { Step } from './step.js';

export const roomServiceStep: Step = {
  name: 'room-service',
  targets: ['room-service.delay-p95', 'room-service.lost'],
  run: ({ raw }) => roomService(raw),
};
