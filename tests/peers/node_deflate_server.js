// Node `ws` echo server with permessage-deflate (RFC 7692), for horde's
// compression tests. Negotiation options come on argv as key=value pairs and
// go to ws's perMessageDeflate as they are: serverNoContextTakeover=true,
// clientNoContextTakeover=true, serverMaxWindowBits=10, clientMaxWindowBits=12,
// threshold=0 (the default here, so every message is compressed; ws's own
// default leaves messages under 1 KiB plain). `off` disables the extension.
// Otherwise node_ws_server.js: port on the first line, echo, exit with stdin.
'use strict';
const { serve } = require('./node_ws_server.js');

const deflate = { threshold: 0 };
let enabled = true;
for (const arg of process.argv.slice(2)) {
  if (arg === 'off') {
    enabled = false;
    continue;
  }
  const [key, value] = arg.split('=');
  deflate[key] = value === 'true' ? true : value === 'false' ? false : Number(value);
}
serve({ perMessageDeflate: enabled ? deflate : false });
