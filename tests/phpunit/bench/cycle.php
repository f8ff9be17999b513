<?php
/**
 * Benchmark: CPU and wall time of one permission cycle (ask for admission, wait for the pulse, report success)
 * for each kind of Performer, against one `pulsard` with a tiny period and N = 1, so that the daemon is never
 * what a cycle waits for.
 *
 *   php tests/phpunit/bench/cycle.php [--cycles 2000] [--warmup 200] [--rounds 5] [--variants ext,zmq]
 *
 * Variants, each in its own process (CPU is getrusage() of that process only, user + system):
 *   ext  the pulsar extension's Performer (PULSAR_PHP_EXTENSION names the .so; default target/release, then
 *        target/debug)
 *   zmq  the original approach: ext-zmq sockets and serialize()/unserialize() of the original classes
 *        (tests/php/OriginalProtocol.php), the original Performer's socket sequence
 *   ffi  the composer package's FFI Performer (php-ext/ffi/ over libpulsar; PULSAR_LIB names libpulsar.so,
 *        default target/release, then target/debug), autoloaded from composer.json's PSR-4 map
 * PULSARD names the daemon binary (default target/release/pulsard, then target/debug/pulsard).
 * The variants take turns for --rounds rounds (the machine's load changes over time, and each variant should
 * see the same); each is reported by the median round and the best round.
 * Output: one line per variant with µs per cycle.
 */

declare(strict_types=1);

$options = getopt('', ['cycles:', 'warmup:', 'rounds:', 'variants:', 'variant:', 'publish:', 'push:', 'admission:']);
$cycles = (int) ($options['cycles'] ?? 2000);
$warmup = (int) ($options['warmup'] ?? 200);

if (isset($options['variant'])) {
    // A worker process: run the cycles, print one JSON line.
    $addresses = [$options['publish'], $options['push'], $options['admission']];
    $cycle = match ($options['variant']) {
        'ext' => extension_cycle(...$addresses),
        'zmq' => original_cycle(...$addresses),
        // The same public API: here the classes are the FFI ones, autoloaded (see the orchestrator).
        'ffi' => extension_cycle(...$addresses),
        default => throw new InvalidArgumentException("unknown variant {$options['variant']}"),
    };
    for ($i = 0; $i < $warmup; $i++) {
        $cycle();
    }
    $usage = getrusage();
    $wall = hrtime(true);
    for ($i = 0; $i < $cycles; $i++) {
        $cycle();
    }
    $wall = (hrtime(true) - $wall) / 1000;
    $after = getrusage();
    $micros = fn(array $u, string $k) => $u["ru_$k.tv_sec"] * 1e6 + $u["ru_$k.tv_usec"];
    echo json_encode([
        'cycles' => $cycles,
        'wall' => $wall,
        'user' => $micros($after, 'utime') - $micros($usage, 'utime'),
        'system' => $micros($after, 'stime') - $micros($usage, 'stime'),
    ]), "\n";
    exit(0);
}

/** @return callable(): void one cycle of the extension's Performer */
function extension_cycle(string $publish, string $push, string $admission): callable
{
    $dto = new \React\PublisherPulsar\Inventory\PerformerDto();
    $dto->setModuleName('bench');
    $sockets = new \React\PublisherPulsar\Inventory\PerformerSocketsParamsDto();
    $sockets->setPublisherPulsarSocketAddress($publish);
    $sockets->setPushPulsarSocketAddress($push);
    $sockets->setRequestPulsarRsSocketAddress($admission);
    $dto->setSocketsParams($sockets);
    $dto->setAdmissionTimeout(10);
    $dto->setPulseTimeout(10);
    $performer = new \React\PublisherPulsar\Performer($dto);
    return function () use ($performer): void {
        $performer->connectToPulsarAndWaitPermissionToAct();
        $performer->pushActionResultInfoWithoutPulsarCorrectionBehavior();
    };
}

/** @return callable(): void one cycle as the original Performer does it, over ext-zmq */
function original_cycle(string $publish, string $push, string $admission): callable
{
    require_once __DIR__ . '/../../php/OriginalProtocol.php';
    $context = new ZMQContext(1, false);
    $request = $context->getSocket(ZMQ::SOCKET_REQ);
    $request->setSockOpt(ZMQ::SOCKOPT_RCVTIMEO, 10_000);
    $request->setSockOpt(ZMQ::SOCKOPT_LINGER, 0);
    $request->connect($admission);
    $pusher = $context->getSocket(ZMQ::SOCKET_PUSH);
    $pusher->setSockOpt(ZMQ::SOCKOPT_SNDTIMEO, 10_000);
    $pusher->connect($push);
    $subscriber = $context->getSocket(ZMQ::SOCKET_SUB);
    $subscriber->setSockOpt(ZMQ::SOCKOPT_RCVTIMEO, 10_000);
    $subscriber->setSockOpt(ZMQ::SOCKOPT_LINGER, 0);
    $subscriber->connect($publish);
    $reply = \React\PublisherPulsar\Inventory\BecomeTheSubscriberReplyDto::class;
    $pulse = \React\PublisherPulsar\Inventory\PublisherToSubscribersDto::class;
    return function () use ($request, $pusher, $subscriber, $reply, $pulse): void {
        $request->send(serialize(new \React\PublisherPulsar\Inventory\PreparingRequestDto()));
        $admitted = unserialize((string) $request->recv(), ['allowed_classes' => [$reply]]);
        if (!$admitted instanceof $reply || !$admitted->isAllowToStartSubscription()) {
            throw new RuntimeException('admission refused or timed out');
        }
        $subscriber->setSockOpt(ZMQ::SOCKOPT_SUBSCRIBE, '');
        $pusher->send(serialize(new \React\PublisherPulsar\Inventory\ReadyToGetSubscriptionMsg()));
        $received = unserialize((string) $subscriber->recv(), ['allowed_classes' => [$pulse]]);
        if (!$received instanceof $pulse || !$received->isAllowAction()) {
            throw new RuntimeException('no pulse');
        }
        $subscriber->setSockOpt(ZMQ::SOCKOPT_UNSUBSCRIBE, '');
        $result = new \React\PublisherPulsar\Inventory\ActionResultingPushDto();
        $result->setActionCompleteCorrectly(true);
        $pusher->send(serialize($result));
    };
}

// The orchestrator: a daemon, then each variant in turn.
$root = dirname(__DIR__, 3);
$first = fn(array $paths) => current(array_filter($paths, 'is_file')) ?: null;
$pulsard = getenv('PULSARD') ?: $first(["$root/target/release/pulsard", "$root/target/debug/pulsard"]);
$extension = getenv('PULSAR_PHP_EXTENSION')
    ?: $first(["$root/target/release/libpulsar_php.so", "$root/target/debug/libpulsar_php.so"]);
if ($pulsard === null || $extension === null) {
    fwrite(STDERR, "build first: cargo build --release -p publisher-pulsar --bin pulsard -p pulsar-php\n");
    exit(2);
}
$ports = [];
foreach (range(1, 3) as $_) {
    $server = stream_socket_server('tcp://127.0.0.1:0');
    $name = stream_socket_get_name($server, false);
    $ports[] = (int) substr($name, strrpos($name, ':') + 1);
    $servers[] = $server;
}
array_map('fclose', $servers);
[$publish, $push, $admission] = array_map(fn($p) => "tcp://127.0.0.1:$p", $ports);

$daemon = proc_open([
    $pulsard, '--subscribers-per-iteration', '1', '--pulsation-iteration-period', '0.0001',
    '--max-wait-reply-stack-result', '0', '--publish-address', $publish, '--pull-address', $push,
    '--reply-stack-address', $admission, '--log-level', 'warn',
], [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => STDERR], $pipes);
usleep(300_000);

$rounds = max(1, (int) ($options['rounds'] ?? 5));
printf("pulsard %s\nextension %s\n", $pulsard, $extension);
printf("%d rounds of %d cycles per variant (after %d warm-up cycles each), N = 1, period 0.1 ms\n\n", $rounds, $cycles, $warmup);
$variants = explode(',', $options['variants'] ?? 'ext,zmq');
$results = [];
for ($round = 0; $round < $rounds; $round++) {
    foreach ($variants as $variant) {
        $php = match ($variant) {
            'ext' => [PHP_BINARY, '-n', '-d', "extension=$extension"],
            'zmq' => [PHP_BINARY, '-n', '-d', 'extension=zmq'],
            'ffi' => [PHP_BINARY, '-n', '-d', 'extension=ffi', '-d', 'ffi.enable=1',
                '-d', "auto_prepend_file=$root/tests/phpunit-ffi/autoload.php"],
            default => null,
        };
        if ($php === null) {
            fwrite(STDERR, "unknown variant $variant\n");
            continue;
        }
        $command = array_merge($php, [__FILE__, "--variant=$variant", "--cycles=$cycles", "--warmup=$warmup",
            "--publish=$publish", "--push=$push", "--admission=$admission"]);
        $worker = proc_open($command, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => STDERR], $pipes);
        $output = stream_get_contents($pipes[1]);
        fclose($pipes[1]);
        $status = proc_close($worker);
        $r = json_decode((string) $output, true);
        if ($status !== 0 || !is_array($r)) {
            fwrite(STDERR, "variant $variant failed (status $status): $output\n");
            continue;
        }
        $results[$variant][] = [
            'wall' => $r['wall'] / $r['cycles'],
            'cpu' => ($r['user'] + $r['system']) / $r['cycles'],
            'user' => $r['user'] / $r['cycles'],
            'system' => $r['system'] / $r['cycles'],
        ];
    }
}
$median = function (array $values): float {
    sort($values);
    $n = count($values);
    return $n % 2 ? $values[intdiv($n, 2)] : ($values[$n / 2 - 1] + $values[$n / 2]) / 2;
};
printf("µs per cycle, median of the rounds (best round in brackets)\n");
printf("%-8s %18s %18s %18s %18s\n", 'variant', 'wall', 'CPU (user+sys)', 'user', 'system');
foreach ($results as $variant => $list) {
    $cells = [];
    foreach (['wall', 'cpu', 'user', 'system'] as $key) {
        $column = array_column($list, $key);
        $cells[] = sprintf('%8.1f [%7.1f]', $median($column), min($column));
    }
    printf("%-8s %18s %18s %18s %18s\n", $variant, ...$cells);
}
proc_terminate($daemon, 15);
proc_close($daemon);
