import {dropMemoryStore, MemoryStore} from '../../src/core/storage/memory.js'
import {runStoreContract} from './contract.js'

runStoreContract('memory', async () => {
  const store = new MemoryStore()
  return {store, cleanup: async () => void dropMemoryStore(store.name)}
})

// The same store declaring no conditional writes: covers the contract's refusal branch.
runStoreContract('memory without conditional writes', async () => {
  const store = new MemoryStore()
  Object.defineProperty(store, 'supports', {value: {...store.supports, conditionalWrite: false}})
  return {store, cleanup: async () => void dropMemoryStore(store.name)}
})
