// The worker thread SQLite destinations look records up on, shared by every destination of the
// process, so that the engine can look the next batch up while it records the current one.
import { serve } from '../../thread.js';
import { answerLookup, type LookupRequest, type LookupResponse } from './reader.js';

serve<LookupRequest, LookupResponse>('the SQLite destination reader', answerLookup);
