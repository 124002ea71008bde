// `syncline/testing`: the contract suites for the two ports, for people who write their own event
// store or destination adapter (or http receiver) and want it held to the same behaviour as the built-in ones.
export { eventStoreContract } from './eventStore.js';
export {
  destinationContract,
  type DestinationCapabilities,
  type DestinationUnderTest,
  type OpenDestinationForTest,
} from './destination.js';
export { contractConfig } from './destinationHelpers.js';
export { receiverContract, type ReceiverUnderTest, type StartReceiverForTest } from './receiver.js';
export type { StoreTraits } from './eventStoreHelpers.js';
export type { Destination, DestinationType, EventStore, StoredEvent, NewEvent } from '../../engine/ports.js';
