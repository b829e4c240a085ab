// A local AT Protocol network for the integration tests: a PLC directory
// (in memory) and a PDS (SQLite and blobs in a temp dir), both on free
// loopback ports. Creates one account with an app password, prints one JSON
// line {pds, handle, did, appPassword}, and stays up until stdin closes.
// Usage: node pds.mjs DATA_DIR (the caller's temp dir, removed by the caller
// since the tests end the process with SIGKILL).
import net from 'node:net'
import path from 'node:path'
import { PDS, envToCfg, envToSecrets, readEnv } from '@atproto/pds'
import * as plc from '@did-plc/server'
import { Secp256k1Keypair } from '@atproto/crypto'

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

// Both servers' start() listen on every interface; keep them on loopback.
const onLoopback = (app) => {
  const listen = app.listen.bind(app)
  app.listen = (port) => listen(port, '127.0.0.1')
}

const xrpc = async (base, method, body, token) => {
  const response = await fetch(`${base}/xrpc/${method}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  })
  const json = await response.json()
  if (!response.ok) throw new Error(`${method}: ${response.status} ${JSON.stringify(json)}`)
  return json
}

const dataDir = process.argv[2]
if (!dataDir) throw new Error('usage: node pds.mjs DATA_DIR')

const plcServer = plc.PlcServer.create({ db: plc.Database.mock(), port: await freePort() })
onLoopback(plcServer.app)
const plcHttp = await plcServer.start()
const plcUrl = `http://127.0.0.1:${plcHttp.address().port}`

const port = await freePort()
const rotationKey = await Secp256k1Keypair.create({ exportable: true })
const hex = (bytes) => Buffer.from(bytes).toString('hex')
Object.assign(process.env, {
  PDS_PORT: String(port),
  PDS_HOSTNAME: 'localhost',
  PDS_DEV_MODE: 'true',
  PDS_DATA_DIRECTORY: dataDir,
  PDS_BLOBSTORE_DISK_LOCATION: path.join(dataDir, 'blobs'),
  PDS_DID_PLC_URL: plcUrl,
  PDS_SERVICE_HANDLE_DOMAINS: '.test',
  PDS_INVITE_REQUIRED: 'false',
  PDS_JWT_SECRET: hex(crypto.getRandomValues(new Uint8Array(32))),
  PDS_ADMIN_PASSWORD: 'admin-pass',
  PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: hex(await rotationKey.export()),
  PDS_DISABLE_SSRF_PROTECTION: 'true',
  LOG_ENABLED: 'false',
})
const env = readEnv()
const pds = await PDS.create(envToCfg(env), envToSecrets(env))
onLoopback(pds.app)
await pds.start()
// Its public URL is http://localhost:PORT (dev mode); only IPv4 loopback listens.
const pdsUrl = `http://127.0.0.1:${port}`

const handle = 'alice.test'
const account = await xrpc(pdsUrl, 'com.atproto.server.createAccount', {
  email: 'alice@example.test',
  handle,
  password: 'alice-account-password',
})
const { password: appPassword } = await xrpc(
  pdsUrl,
  'com.atproto.server.createAppPassword',
  { name: 'newsfeed' },
  account.accessJwt,
)

process.stdout.write(JSON.stringify({ pds: pdsUrl, handle, did: account.did, appPassword }) + '\n')

const shutdown = async () => {
  await pds.destroy()
  await plcServer.destroy()
  process.exit(0)
}
process.stdin.on('end', shutdown)
process.stdin.on('close', shutdown)
process.stdin.resume()
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
