import { Command } from 'commander';
import { UsageError } from '../cli/usage-error.js';

export function benchCommand(): Command {
  return new Command('bench').description('load-test servers with simulated peers (not available yet)').action(() => {
    throw new UsageError('bench is not available in this version yet');
  });
}
