// Runs a ViewDefinition with sof-js, the SQL on FHIR v2 reference implementation in JavaScript
// (the sof-js folder of https://github.com/FHIR/sql-on-fhir-v2; not published on npm), over NDJSON
// files, and writes its rows as NDJSON: the baseline of bench/views/views_bench.py.
//
//   node bench/views/sof_run.mjs --sof-js DIR --view VIEW.json --out ROWS.ndjson FILE.ndjson...
//
// Resources are read line by line and given to sof-js's evaluate() a batch at a time (it
// validates the view on every call, so one call per resource would measure the validation). The
// bare imports of sof-js ('fhirpath', 'ajv') resolve from the sof-js folder's own node_modules
// when it has them, else from this repository's (package.json; see the hook below). Prints one
// line on stdout:
//   rows=R resources=N seconds=S
import fs from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'
import { register } from 'node:module'
import { pathToFileURL, fileURLToPath } from 'node:url'

const BATCH = 1000

function parseArgs(argv) {
  const a = { files: [] }
  for (let i = 0; i < argv.length; ++i) {
    const k = argv[i]
    if (k === '--sof-js' || k === '--view' || k === '--out') a[k.slice(2).replace('-', '_')] = argv[++i]
    else a.files.push(k)
  }
  if (!a.sof_js || !a.view || !a.out || a.files.length === 0) {
    console.error('usage: sof_run.mjs --sof-js DIR --view VIEW.json --out ROWS.ndjson FILE.ndjson...')
    process.exit(2)
  }
  return a
}

const args = parseArgs(process.argv.slice(2))
const repoModules = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'node_modules')
// A resolve hook: what sof-js imports by a bare name and cannot find beside itself comes from
// this repository's node_modules, 'fhirpath' as the version sof-js pins (fhirpath 3.9.0,
// installed as 'fhirpath-sof-js': fhirpath 5 needs a model for getReferenceKey(Patient)).
register(
  'data:text/javascript,' +
    encodeURIComponent(`
      const base = ${JSON.stringify(pathToFileURL(repoModules + '/').href)};
      export async function resolve(specifier, context, next) {
        try { return await next(specifier, context) } catch (e) {
          if (!/^[a-z@]/.test(specifier) || specifier.startsWith('node:')) throw e
          const name = specifier === 'fhirpath' ? 'fhirpath-sof-js' : specifier
          return next(name, { ...context, parentURL: base + 'x.js' })
        }
      }`),
)

const sof = await import(pathToFileURL(path.join(path.resolve(args.sof_js), 'src', 'index.js')).href)
const view = JSON.parse(fs.readFileSync(args.view, 'utf8'))
const out = fs.openSync(args.out, 'w')
let rows = 0
let resources = 0
let chunk = ''

function flush(force) {
  if (chunk.length > 65536 || (force && chunk.length > 0)) {
    fs.writeSync(out, chunk)
    chunk = ''
  }
}

function run(batch) {
  for (const row of sof.evaluate(view, batch)) {
    chunk += JSON.stringify(row) + '\n'
    ++rows
    flush(false)
  }
}

const start = process.hrtime.bigint()
for (const file of args.files) {
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })
  let batch = []
  for await (const line of lines) {
    if (line.trim() === '') continue
    const resource = JSON.parse(line)
    if (resource.resourceType !== view.resource) continue
    batch.push(resource)
    ++resources
    if (batch.length === BATCH) {
      run(batch)
      batch = []
    }
  }
  if (batch.length > 0) run(batch)
}
flush(true)
fs.closeSync(out)
const seconds = Number(process.hrtime.bigint() - start) / 1e9
console.log(`rows=${rows} resources=${resources} seconds=${seconds.toFixed(3)}`)
