#!/usr/bin/env node
// The `evalbot` command: runs the TypeScript entry point through tsx, as every evalbot app does.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
