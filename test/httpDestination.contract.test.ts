// The http destination over real HTTP on 127.0.0.1 against the example receiver: the Destination
// contract and the receiver protocol (syncline/testing's receiverContract), signed and unsigned.
import { receiverContract } from './contract/receiver.js';
import { startExampleReceiver } from './support/exampleReceiver.js';

receiverContract('the example receiver, with a secret', async () => {
  const secret = 'whsec-contract-secret';
  const r = await startExampleReceiver({ secret });
  return { url: r.url, secret, close: r.close };
});

receiverContract(
  'the example receiver, without a secret',
  async () => {
    const r = await startExampleReceiver();
    return { url: r.url, close: r.close };
  },
  { signed: false },
);
