// A counting HTTP server in its own process (tests SIGSTOP it); prints "port N", then "count N" every 100 ms.
import http from 'node:http';
let n = 0;
const server = http.createServer((req, res) => {
  n++;
  req.resume();
  res.end('ok');
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`));
setInterval(() => console.log(`count ${n}`), 100);
process.on('SIGTERM', () => {
  console.log(`count ${n}`);
  process.exit(0);
});
