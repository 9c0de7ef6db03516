// `npm run build`, after tsc: copies the files the compiled code reads next to itself (the mesh page).
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

const ASSETS = ['gateway/mesh/mesh-page.html'];
for (const asset of ASSETS) {
  mkdirSync(dirname(`dist/${asset}`), { recursive: true });
  copyFileSync(asset, `dist/${asset}`);
}
