export * from './records.js'
export * from './db.js'
export * from './projections.js'
export * from './log.js'
