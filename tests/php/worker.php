<?php
/**
 * An original-style Publisher Pulsar Performer: ext-zmq and serialize(), no Rust, exactly the messages and the
 * socket sequence of the original library's Performer. The cross-language tests run many of these against
 * `pulsard` to prove that unchanged PHP workers get their permission and that the daemon adapts to what they
 * report.
 *
 * One iteration, as the original does it on the wire:
 *   REQ  → admission: serialize(PreparingRequestDto)      ← BecomeTheSubscriberReplyDto
 *   SUB  connect (once, on first use), subscribe to ""
 *   PUSH → pull: serialize(ReadyToGetSubscriptionMsg)
 *   SUB  ← the pulse (PublisherToSubscribersDto), check allowAction, unsubscribe
 *   act, then PUSH → pull: serialize(ActionResultingPushDto) as the mode says
 *
 * Usage:
 *   php worker.php --admission ADDR --publish ADDR --push ADDR [--id ID] [--mode MODES]
 *                  (--iterations K | --seconds S) [--timeout-ms MS] [--act-ms MS] [--pulse-class CLASS]
 *
 *   --mode: `success`, `slowdown`, `pause:<microseconds>`, or a comma-separated sequence of those, each with an
 *           optional `*count`, e.g. `slowdown*3,success*10`. The last item repeats once the sequence is used up.
 *           Default `success`.
 *   --timeout-ms: bound on every socket receive and send (default 20000); a timeout exits with status 1.
 *   --act-ms: how long the "action" takes (default 0).
 *   --pulse-class: the exact class every pulse must have (default the original PublisherToSubscribersDto; the
 *           test subclass PulsarHarness\CustomPublisherToSubscribersDto is the only other one accepted).
 *
 * Output on STDOUT, one line each, flushed at once (times are microtime(true) with 6 decimals):
 *   ASK <id> <time>             the admission request is sent (queued, even if no daemon is up yet)
 *   GRANT <id> <time> <mode>    when the pulse arrived (before acting)
 *   REPORT <id> <time> <mode>   just before the result is pushed
 *   DONE <id> <grants>          at a normal end
 * Exit status: 0 done, 1 runtime failure (timeout, refusal, unexpected bytes; message on STDERR), 2 bad usage.
 *
 * What it must never do: unserialize() network bytes without `allowed_classes`, wait without a bound, or use
 * anything but the original protocol classes (OriginalProtocol.php, plus the test pulse subclass).
 */

declare(strict_types=1);

require_once __DIR__ . '/OriginalProtocol.php';
// A user subclass of the pulse: a worker must be able to load it to accept such a pulse (see --pulse-class).
require_once __DIR__ . '/CustomPulse.php';

use PulsarHarness\CustomPublisherToSubscribersDto;
use React\PublisherPulsar\Inventory\ActionResultingPushDto;
use React\PublisherPulsar\Inventory\BecomeTheSubscriberReplyDto;
use React\PublisherPulsar\Inventory\ErrorSleepForPeriod;
use React\PublisherPulsar\Inventory\PreparingRequestDto;
use React\PublisherPulsar\Inventory\PublisherToSubscribersDto;
use React\PublisherPulsar\Inventory\ReadyToGetSubscriptionMsg;

/** Bad command line: say why and how to call, exit 2. */
function usage(string $why): void
{
    fwrite(STDERR, "worker.php: $why\nusage: php worker.php --admission ADDR --publish ADDR --push ADDR"
        . " [--id ID] [--mode MODES] (--iterations K | --seconds S) [--timeout-ms MS] [--act-ms MS]"
        . " [--pulse-class CLASS]\n");
    exit(2);
}

/** A runtime failure: say what and where, exit 1. */
function fail(string $id, string $why): void
{
    fwrite(STDERR, "worker $id: $why\n");
    exit(1);
}

/** Emits one protocol-event line and flushes it, so that the test sees it even if we die right after. */
function emit(string $line): void
{
    fwrite(STDOUT, $line . "\n");
    fflush(STDOUT);
}

/** @return array<string,string> */
function parse_args(array $argv): array
{
    $known = [
        'admission', 'publish', 'push', 'id', 'mode', 'iterations', 'seconds', 'timeout-ms', 'act-ms', 'pulse-class',
    ];
    $args = [];
    for ($i = 1; $i < count($argv); $i++) {
        $arg = $argv[$i];
        if (!str_starts_with($arg, '--')) {
            usage("unexpected argument '$arg'");
        }
        $name = substr($arg, 2);
        $value = null;
        if (str_contains($name, '=')) {
            [$name, $value] = explode('=', $name, 2);
        }
        if (!in_array($name, $known, true)) {
            usage("unknown option --$name");
        }
        if ($value === null) {
            if (!isset($argv[$i + 1])) {
                usage("--$name needs a value");
            }
            $value = $argv[++$i];
        }
        $args[$name] = $value;
    }
    foreach (['admission', 'publish', 'push'] as $required) {
        if (!isset($args[$required])) {
            usage("--$required is required");
        }
    }
    if (isset($args['iterations']) === isset($args['seconds'])) {
        usage('give exactly one of --iterations and --seconds');
    }
    return $args;
}

/**
 * Expands `slowdown*3,success*10` into [['slowdown', 3], ['success', 10]]; a mode is `success`, `slowdown` or
 * `pause:<microseconds>`.
 *
 * @return list<array{0:string,1:int}>
 */
function parse_modes(string $spec): array
{
    $plan = [];
    foreach (explode(',', $spec) as $item) {
        $item = trim($item);
        $count = 1;
        if (str_contains($item, '*')) {
            [$item, $n] = explode('*', $item, 2);
            if (!ctype_digit($n) || (int) $n < 1) {
                usage("bad repeat count in mode item '$item*$n'");
            }
            $count = (int) $n;
        }
        $isPause = preg_match('/^pause:[0-9]+$/', $item) === 1;
        if ($item !== 'success' && $item !== 'slowdown' && !$isPause) {
            usage("unknown mode '$item' (expected success, slowdown or pause:<microseconds>)");
        }
        $plan[] = [$item, $count];
    }
    return $plan;
}

/** The mode of the k-th grant (0-based); the last item of the plan repeats forever. */
function mode_for(array $plan, int $k): string
{
    foreach ($plan as [$mode, $count]) {
        if ($k < $count) {
            return $mode;
        }
        $k -= $count;
    }
    return $plan[count($plan) - 1][0];
}

/** The result a worker of the original library pushes for this mode (the seeds' README code). */
function result_for(string $mode): ActionResultingPushDto
{
    $result = new ActionResultingPushDto();
    if ($mode === 'success') {
        // pushActionResultInfoWithoutPulsarCorrectionBehavior()
        $result->setActionCompleteCorrectly(true);
    } elseif ($mode === 'slowdown') {
        $result->setActionCompleteCorrectly(false);
        $result->setSlowDown(true);
        $result->setErrorMessage('User Rate Limit Exceeded');
        $result->setErrorReason('userRateLimitExceeded');
    } else {
        $sleep = new ErrorSleepForPeriod();
        $sleep->setSleepPeriod((int) substr($mode, strlen('pause:')));
        $result->setActionCompleteCorrectly(false);
        $result->setSleepForPeriod($sleep);
        $result->setErrorMessage('Daily Limit Exceeded');
        $result->setErrorReason('dailyLimitExceeded');
    }
    return $result;
}

/** A socket with every wait bounded and no linger, so that neither a dead daemon nor exit() can hang us. */
function bounded_socket(ZMQContext $context, int $type, int $timeoutMs): ZMQSocket
{
    $socket = $context->getSocket($type);
    $socket->setSockOpt(ZMQ::SOCKOPT_LINGER, 0);
    $socket->setSockOpt(ZMQ::SOCKOPT_SNDTIMEO, $timeoutMs);
    if ($type !== ZMQ::SOCKET_PUSH) {
        $socket->setSockOpt(ZMQ::SOCKOPT_RCVTIMEO, $timeoutMs);
    }
    return $socket;
}

/** Bytes for an error message: printable, NUL shown as \0, cut short. */
function shown(string $bytes): string
{
    return substr(str_replace("\0", '\\0', $bytes), 0, 200);
}

$args = parse_args($argv);
$id = $args['id'] ?? (string) getmypid();
$plan = parse_modes($args['mode'] ?? 'success');
$timeoutMs = (int) ($args['timeout-ms'] ?? 20_000);
$actMicros = (int) ($args['act-ms'] ?? 0) * 1000;
// The pulse classes a worker can load; unserialize() gets nothing else.
$pulseClasses = [PublisherToSubscribersDto::class, CustomPublisherToSubscribersDto::class];
$pulseClass = ltrim($args['pulse-class'] ?? PublisherToSubscribersDto::class, '\\');
if (!in_array($pulseClass, $pulseClasses, true)) {
    usage("--pulse-class must be one of " . implode(', ', $pulseClasses));
}
$iterations = isset($args['iterations']) ? (int) $args['iterations'] : PHP_INT_MAX;
$until = isset($args['seconds']) ? microtime(true) + (float) $args['seconds'] : INF;
if ($timeoutMs < 1) {
    usage('--timeout-ms must be at least 1');
}

try {
    $context = new ZMQContext(1, false);

    $request = bounded_socket($context, ZMQ::SOCKET_REQ, $timeoutMs);
    $request->connect($args['admission']);
    $push = bounded_socket($context, ZMQ::SOCKET_PUSH, $timeoutMs);
    // The one exception to "no linger": the last result must still leave after exit(), else the daemon waits
    // its whole result timeout for it. Bounded by the same timeout as every other wait.
    $push->setSockOpt(ZMQ::SOCKOPT_LINGER, $timeoutMs);
    $push->connect($args['push']);
    // Like the original, the subscriber socket is made and connected on first use only.
    $subscriber = null;

    $grants = 0;
    while ($grants < $iterations && microtime(true) < $until) {
        // 1. Ask the admission desk, wait for "become the subscriber".
        if ($request->send(serialize(new PreparingRequestDto())) === false) {
            fail($id, "timed out after {$timeoutMs} ms sending the admission request to {$args['admission']}");
        }
        // Queued in libzmq even when no daemon is up yet: from here on the worker waits for admission.
        emit(sprintf('ASK %s %.6f', $id, microtime(true)));
        $reply = $request->recv();
        if ($reply === false) {
            fail($id, "timed out after {$timeoutMs} ms waiting for admission from {$args['admission']}"
                . " (is pulsard running?)");
        }
        $admission = @unserialize($reply, ['allowed_classes' => [BecomeTheSubscriberReplyDto::class]]);
        if (!$admission instanceof BecomeTheSubscriberReplyDto) {
            fail($id, 'unexpected admission reply: ' . shown($reply));
        }
        if (!$admission->isAllowToStartSubscription()) {
            fail($id, 'admission refused by the daemon (allowToStartSubscription is false)');
        }

        // 2. Subscribe to everything, then tell the Pulsar we are ready.
        if ($subscriber === null) {
            $subscriber = bounded_socket($context, ZMQ::SOCKET_SUB, $timeoutMs);
            $subscriber->connect($args['publish']);
        }
        $subscriber->setSockOpt(ZMQ::SOCKOPT_SUBSCRIBE, '');
        if ($push->send(serialize(new ReadyToGetSubscriptionMsg())) === false) {
            fail($id, "timed out after {$timeoutMs} ms pushing ReadyToGetSubscriptionMsg to {$args['push']}");
        }

        // 3. The pulse.
        $bytes = $subscriber->recv();
        if ($bytes === false) {
            fail($id, "timed out after {$timeoutMs} ms waiting for the pulse on {$args['publish']}");
        }
        $grantedAt = microtime(true);
        $pulse = @unserialize($bytes, ['allowed_classes' => $pulseClasses]);
        if (!$pulse instanceof PublisherToSubscribersDto || get_class($pulse) !== $pulseClass) {
            fail($id, "unexpected pulse (expected a $pulseClass): " . shown($bytes));
        }
        if (!$pulse->isAllowAction()) {
            // The original Performer throws here.
            fail($id, 'the pulse does not allow the action (allowAction is false)');
        }
        $subscriber->setSockOpt(ZMQ::SOCKOPT_UNSUBSCRIBE, '');
        $mode = mode_for($plan, $grants);
        $grants++;
        emit(sprintf('GRANT %s %.6f %s', $id, $grantedAt, $mode));

        // 4. Act, then report.
        if ($actMicros > 0) {
            usleep($actMicros);
        }
        $result = serialize(result_for($mode));
        // Taken before sending: the daemon cannot have seen the report earlier than this.
        emit(sprintf('REPORT %s %.6f %s', $id, microtime(true), $mode));
        if ($push->send($result) === false) {
            fail($id, "timed out after {$timeoutMs} ms pushing the action result to {$args['push']}");
        }
    }
    emit("DONE $id $grants");
} catch (ZMQException $e) {
    fail($id, 'ZeroMQ error: ' . $e->getMessage());
}
exit(0);
