// The `image` step: the container image's size, start and idle memory (podman).
import { measureImage } from '../measure-image.js';
import type { Step } from './step.js';

export const imageStep: Step = {
  name: 'image',
  targets: ['image.memory.charged', 'image.pss', 'image.rss'],
  run: ({ raw }) => measureImage(raw),
};
