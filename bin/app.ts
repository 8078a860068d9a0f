#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { addPartnerKeyStacks } from './byok-stacks';
import { loadConfig } from './config';

/**
 * Example app: BYOK keys for a SaaS partner, in every account and region of the config (see
 * bin/config.ts and the README, "Many regions and accounts"). Deploy with
 * `npx cdk deploy --all --outputs-file byok-key-arns.json` to collect every key ARN in one file.
 */
const app = new App();
addPartnerKeyStacks(app, loadConfig(app));
