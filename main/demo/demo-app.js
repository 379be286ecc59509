// loopscope's demo target: a small app that misbehaves in the ways loopscope shows best.
// Every few seconds it parses a big JSON document on the loop, reads a file synchronously,
// and keeps the thread pool busy with crypto. Runs until stopped (Ctrl-C).
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');

const bigDocument = JSON.stringify(Array.from({ length: 200_000 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b'] })));

function parseOrders() {
  const orders = JSON.parse(bigDocument); // a giant JSON.parse in the request path
  return orders.filter((o) => o.id % 2 === 0).length;
}

function loadConfig() {
  return fs.readFileSync(process.execPath).length; // a readFileSync of a large file
}

function hashPasswords() {
  for (let i = 0; i < 8; i++) crypto.pbkdf2('password', 'salt', 200_000, 64, 'sha512', () => undefined);
}

let tick = 0;
setInterval(() => {
  tick++;
  if (tick % 3 === 0) console.log(`parsed ${parseOrders()} orders`);
  if (tick % 5 === 0) console.log(`read ${loadConfig()} bytes of config`);
  if (tick % 4 === 0) hashPasswords();
}, 1000);
console.log(`demo app running as pid ${process.pid}; press Ctrl-C to stop`);
