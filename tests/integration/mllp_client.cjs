// Sends HL7 v2 message files to an MLLP listener with simple-hl7 (npm), an MLLP client written
// independently of Vesta, one message at a time on one connection, and prints each ACK it
// received as one JSON line: {"file": ..., "ack": "MSH|...\rMSA|AA|..."}.
//
//   node mllp_client.cjs HOST PORT FILE...
'use strict';
const fs = require('fs');
const hl7 = require('simple-hl7');

const [host, port, ...files] = process.argv.slice(2);
// The message as a file holds it, sent as is (segments ended by CR): the library frames it and
// parses the ACK; its own parser would rewrite the message.
const asWire = (text) => text.replace(/^\uFEFF/, '').replace(/\r\n|\n/g, '\r').replace(/\r+$/, '');
const client = hl7.Server.createTcpClient({ host, port: Number(port), keepalive: true });
const timer = setTimeout(() => { console.error('no answer within 60 s'); process.exit(2); }, 60000);

function next(i) {
  if (i === files.length) {
    clearTimeout(timer);
    client.close();
    return;
  }
  const text = asWire(fs.readFileSync(files[i], 'utf8'));
  client.send({ toString: () => text }, (err, ack) => {
    if (err) {
      console.error(files[i] + ': ' + err.message);
      process.exit(1);
    }
    console.log(JSON.stringify({ file: files[i], ack: ack.toString() }));
    // The client clears its "awaiting a response" flag after this callback returns.
    setImmediate(() => next(i + 1));
  });
}
next(0);
