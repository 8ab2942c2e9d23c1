import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { protocolJsonSchema } from '../protocol/json-schema.js';

export function schemaCommand(): Command {
  return new Command('schema')
    .description('print the JSON Schema of every protocol message (or write it to a file)')
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (flags: { out?: string }) => {
      const text = `${JSON.stringify(protocolJsonSchema(), null, 2)}\n`;
      if (flags.out) await writeFile(flags.out, text);
      else process.stdout.write(text);
    });
}
