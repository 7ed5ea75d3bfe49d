import { join } from 'node:path';

/** The repository's root folder, wherever a test file or support module sits. */
export const REPO_ROOT = join(import.meta.dirname, '..', '..');
