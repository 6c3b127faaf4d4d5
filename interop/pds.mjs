// Run a Bluesky PDS (@atproto/pds) with an in-memory PLC directory on loopback, for interop tests.
//
//   node pds.mjs --modules <node_modules dir> --port <pds port> --plc-port <plc port>
//                --data <empty dir> [--rate-limits]
//
// Needs Node 22 and the packages installed by interop/setup.sh. Listens on 127.0.0.1 only; the
// PDS calls itself `localhost` (its public URL and did:web), handles end in `.test` and resolve
// without DNS. Prints one line `READY <pds url> <plc url>` when both servers listen; stops
// cleanly on SIGTERM or SIGINT.
import net from 'node:net'
import path from 'node:path'
import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'

const { values: args } = parseArgs({
  options: {
    modules: { type: 'string' },
    port: { type: 'string' },
    'plc-port': { type: 'string' },
    data: { type: 'string' },
    'rate-limits': { type: 'boolean', default: false },
  },
})
for (const name of ['modules', 'port', 'plc-port', 'data']) {
  if (!args[name]) {
    console.error(`pds.mjs: --${name} is required`)
    process.exit(2)
  }
}

// Both servers call listen(port) with no host, which binds every interface. Tests use loopback
// only, so a listen without a host gets 127.0.0.1.
const originalListen = net.Server.prototype.listen
net.Server.prototype.listen = function listen(...listenArgs) {
  if (typeof listenArgs[0] === 'number' && typeof listenArgs[1] !== 'string') {
    listenArgs.splice(1, 0, '127.0.0.1')
  }
  return originalListen.apply(this, listenArgs)
}

// The packages live under .cache/interop, not next to this file.
const require = createRequire(path.join(path.resolve(args.modules), 'package.json'))
const pds = require('@atproto/pds')
const { PlcServer, Database } = require('@did-plc/server')
const { Secp256k1Keypair } = require('@atproto/crypto')

const port = Number(args.port)
const plcPort = Number(args['plc-port'])
const data = path.resolve(args.data)

const plc = PlcServer.create({ db: Database.mock(), port: plcPort })
await plc.start()
// The PDS refuses to fetch from a bare IP (host header policy), so the PLC is reached by name.
const plcUrl = `http://localhost:${plcPort}`

const rotationKey = await Secp256k1Keypair.create({ exportable: true })
const recoveryKey = await Secp256k1Keypair.create()
const env = {
  devMode: true,
  port,
  hostname: 'localhost',
  dataDirectory: data,
  blobstoreDiskLocation: path.join(data, 'blobs'),
  recoveryDidKey: recoveryKey.did(),
  adminPassword: 'admin-pass',
  jwtSecret: 'jwt-secret',
  serviceHandleDomains: ['.test'],
  didPlcUrl: plcUrl,
  // No AppView: app.bsky.* reads answer 502 UpstreamFailure; repo writes work.
  bskyAppViewUrl: 'https://appview.invalid',
  bskyAppViewDid: 'did:example:invalid',
  bskyAppViewCdnUrlPattern: 'http://cdn.invalid/%s/%s/%s',
  modServiceUrl: 'https://moderator.invalid',
  modServiceDid: 'did:example:invalid',
  plcRotationKeyK256PrivateKeyHex: Buffer.from(await rotationKey.export()).toString('hex'),
  inviteRequired: false,
  disableSsrfProtection: true,
  crawlers: [],
  rateLimitsEnabled: args['rate-limits'],
}
const server = await pds.PDS.create(pds.envToCfg(env), pds.envToSecrets(env))
await server.start()
console.log(`READY http://localhost:${port} ${plcUrl}`)

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  try {
    await server.destroy()
    await plc.destroy()
  } finally {
    process.exit(0)
  }
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
