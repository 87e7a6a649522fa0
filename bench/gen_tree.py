#!/usr/bin/env python3
"""Generate a synthetic CMS-like source tree for bench/audit_ttl.sh.

Writes N PHP/JS files (default 50,000) in nested directories under OUT: mostly ordinary
code that never touches a cache (controllers, helpers, arrays, comments), some files with
cache writes (with and without expiry, as in real WordPress/Drupal/Magento/Medusa code),
and a few copies of the code shapes from tests/audit_ttl.rs. Deterministic (fixed seed).

Usage: gen_tree.py OUT [N]
"""
import os
import random
import sys

OUT = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
rng = random.Random(4242)

PHP_FILLER = [
    "    public function get_{n}( $id ) {{\n        $row = $this->db->get_row( $this->db->prepare( \"SELECT * FROM {{$this->table}} WHERE id = %d\", $id ) );\n        if ( ! $row ) {{\n            return null;\n        }}\n        return array_map( 'sanitize_text_field', (array) $row );\n    }}\n",
    "    private function render_{n}( array $items ): string {{\n        $out = '';\n        foreach ( $items as $key => $item ) {{\n            $out .= sprintf( '<li data-key=\"%s\">%s</li>', esc_attr( $key ), esc_html( $item['title'] ?? '' ) );\n        }}\n        return '<ul>' . $out . '</ul>';\n    }}\n",
    "    /**\n     * Settings for block {n}.\n     *\n     * @return array<string, mixed>\n     */\n    protected function settings_{n}() {{\n        return [\n            'title'    => __( 'Block {n}', 'acme' ),\n            'columns'  => {n} % 4 + 1,\n            'order_by' => 'date',\n            'enabled'  => true,\n        ];\n    }}\n",
    "    public function handle_{n}( $request ) {{\n        $data = json_decode( $request->get_body(), true );\n        if ( empty( $data['id'] ) ) {{\n            throw new \\InvalidArgumentException( 'missing id' );\n        }}\n        $this->logger->info( 'handled {n}', [ 'id' => $data['id'] ] );\n        return new \\WP_REST_Response( [ 'ok' => true ], 200 );\n    }}\n",
]

PHP_CACHE = [
    "        wp_cache_set( 'acme_{n}', $value, 'acme' );\n",
    "        wp_cache_set( 'acme_{n}', $value, 'acme', HOUR_IN_SECONDS );\n",
    "        set_transient( 'acme_feed_{n}', $value, 12 * HOUR_IN_SECONDS );\n",
    "        set_transient( 'acme_feed_{n}', $value );\n",
    "        $this->cache->save( $this->serializer->serialize( $value ), 'acme_{n}', [ 'acme' ] );\n",
    "        \\Drupal::cache( 'data' )->set( 'acme:{n}', $value );\n",
    "        $this->redis->set( 'acme:{n}', $value );\n",
    "        $this->redis->hSet( 'acme:h:{n}', 'f', $value );\n        $this->redis->expire( 'acme:h:{n}', 600 );\n",
]

JS_FILLER = [
    "export function format{n}(items) {{\n  return items\n    .filter((i) => i.enabled)\n    .map((i) => ({{ id: i.id, label: `${{i.title}} (${{i.count}})` }}))\n    .sort((a, b) => a.label.localeCompare(b.label));\n}}\n",
    "export class Service{n} {{\n  constructor(repo, logger) {{\n    this.repo = repo;\n    this.logger = logger;\n  }}\n  async list(filter = {{}}) {{\n    const rows = await this.repo.find({{ where: filter, take: 50 }});\n    this.logger.info(`listed ${{rows.length}} rows`);\n    return rows;\n  }}\n}}\n",
    "const defaults{n} = {{ retries: 3, timeout: 5000, headers: {{ 'x-app': 'shop' }} }};\nexport const config{n} = Object.freeze({{ ...defaults{n}, name: 'svc{n}' }});\n",
    "export async function fetchJson{n}(url) {{\n  const res = await fetch(url, {{ headers: {{ accept: 'application/json' }} }});\n  if (!res.ok) throw new Error(`HTTP ${{res.status}}`);\n  return res.json();\n}}\n",
]

JS_CACHE = [
    "export async function put{n}(redis, key, v) {{\n  await redis.set(key, JSON.stringify(v));\n}}\n",
    "export async function put{n}(redis, key, v) {{\n  await redis.set(key, JSON.stringify(v), 'EX', 30);\n}}\n",
    "export async function cache{n}(cachingModuleService, data) {{\n  await cachingModuleService.set({{ key: 'k{n}', data, ttl: 0 }});\n}}\n",
]

DIRS = [
    "site{s}/wp-content/plugins/plugin{p}/includes",
    "site{s}/wp-content/plugins/plugin{p}/src/Admin",
    "site{s}/vendor/acme/lib{p}/src/Http",
    "site{s}/web/modules/contrib/mod{p}/src/Controller",
    "site{s}/app/code/Acme/Mod{p}/Model",
    "site{s}/src/modules/mod{p}/services",
]


def php_file(n, with_cache):
    parts = ["<?php\n", "namespace Acme\\Gen{};\n\n".format(n % 97),
             "/**\n * Generated class {} for the rcfg benchmark.\n */\n".format(n),
             "class Gen{} extends Base {{\n".format(n)]
    for k in range(rng.randint(4, 12)):
        parts.append(rng.choice(PHP_FILLER).format(n=k))
    if with_cache:
        parts.append("    public function warm( $value ) {\n")
        parts.append(rng.choice(PHP_CACHE).format(n=n))
        parts.append("    }\n")
    parts.append("}\n")
    return "".join(parts)


def js_file(n, with_cache):
    parts = ["// Generated module {} for the rcfg benchmark.\n".format(n)]
    for k in range(rng.randint(3, 10)):
        parts.append(rng.choice(JS_FILLER).format(n=k))
    if with_cache:
        parts.append(rng.choice(JS_CACHE).format(n=n))
    return "".join(parts)


def main():
    made = 0
    per_dir = 40
    while made < N:
        s, p = made // 5000, (made // per_dir) % 125
        d = os.path.join(OUT, rng.choice(DIRS).format(s=s, p=p))
        os.makedirs(d, exist_ok=True)
        for _ in range(per_dir):
            if made >= N:
                break
            with_cache = rng.random() < 0.03
            if rng.random() < 0.7:
                name, text = "class-gen-{}.php".format(made), php_file(made, with_cache)
            else:
                name, text = "gen{}.js".format(made), js_file(made, with_cache)
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
            made += 1
    print("generated {} files under {}".format(made, OUT))


main()
