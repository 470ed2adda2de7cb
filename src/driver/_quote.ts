/** Quote a LISTEN channel name so any text (`jobs:insert`, mixed case) is one identifier. */
export function quoteChannel(channel: string): string {
  return `"${channel.replaceAll('"', '""')}"`;
}
