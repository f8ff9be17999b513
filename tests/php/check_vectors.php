<?php
/**
 * Proves that OriginalProtocol.php reproduces the original library's bytes: builds every golden vector's object
 * the way the original code does (`new`, then the seeds' setters) and compares `serialize()` with the `.bin`
 * file byte for byte. Also checks that each vector unserializes (restricted to the protocol classes) back into
 * the same class and re-serializes to the same bytes.
 *
 * Usage: php check_vectors.php [VECTORS_DIR]
 *   VECTORS_DIR defaults to $PULSAR_VECTORS_DIR, else every existing known copy (the repository's, the shared
 *   spec's) is checked.
 * Exit status: 0 when every vector matches, 1 on any mismatch or missing vector, 2 on a usage problem.
 *
 * It must never write to the vectors directory: the `.bin` files are authoritative, this script only reads.
 */

declare(strict_types=1);

namespace {

    // The protocol classes, and the user subclass of the pulse that vector 04 holds.
    require_once __DIR__ . '/CustomPulse.php';

    use React\PublisherPulsar\Inventory\ActionResultingPushDto;
    use React\PublisherPulsar\Inventory\BecomeTheSubscriberReplyDto;
    use React\PublisherPulsar\Inventory\ErrorSleepForPeriod;
    use React\PublisherPulsar\Inventory\PerformerEarlyTerminated;
    use React\PublisherPulsar\Inventory\PreparingRequestDto;
    use React\PublisherPulsar\Inventory\PublisherToSubscribersDto;
    use React\PublisherPulsar\Inventory\PulsarIterationFinish;
    use React\PublisherPulsar\Inventory\PulsarToReplyStackReplyDto;
    use React\PublisherPulsar\Inventory\ReadyToGetSubscriptionMsg;
    use React\PublisherPulsar\Inventory\ReplyStackToPulsarGetTaskRequestDto;
    use React\PublisherPulsar\Inventory\ReplyStackToPulsarReturnResultRequestDto;

    /** Every class a vector may decode to: unserialize() is never given a free hand, even on our own files. */
    const PROTOCOL_CLASSES = [
        PreparingRequestDto::class,
        BecomeTheSubscriberReplyDto::class,
        PublisherToSubscribersDto::class,
        PulsarHarness\CustomPublisherToSubscribersDto::class,
        ReadyToGetSubscriptionMsg::class,
        PerformerEarlyTerminated::class,
        ActionResultingPushDto::class,
        ErrorSleepForPeriod::class,
        ReplyStackToPulsarGetTaskRequestDto::class,
        ReplyStackToPulsarReturnResultRequestDto::class,
        PulsarToReplyStackReplyDto::class,
        PulsarIterationFinish::class,
    ];

    function fail_usage(string $message): void
    {
        fwrite(STDERR, "check_vectors: $message\n");
        exit(2);
    }

    /**
     * The directories to check: the one given (argument or $PULSAR_VECTORS_DIR), else every known copy that
     * exists — the repository's (what CI has) and the shared spec's (authoritative) — so a stale copy fails too.
     *
     * @return list<string>
     */
    function vectors_dirs(array $argv): array
    {
        if (isset($argv[1])) {
            $candidates = [$argv[1]];
        } elseif (($env = getenv('PULSAR_VECTORS_DIR')) !== false && $env !== '') {
            $candidates = [$env];
        } else {
            $candidates = [
                __DIR__ . '/../../rust/wire/tests/vectors',
            ];
        }
        $found = array_values(array_filter($candidates, fn (string $dir): bool => is_dir($dir)));
        if ($found === []) {
            fail_usage('no vectors directory among: ' . implode(', ', $candidates)
                . ' (pass one as the first argument or set PULSAR_VECTORS_DIR)');
        }
        return $found;
    }

    /** The objects, built as the original code builds them; keyed by the vector file name. */
    function expected_objects(): array
    {
        $slowDown = function (string $message): ActionResultingPushDto {
            $dto = new ActionResultingPushDto();
            $dto->setActionCompleteCorrectly(false);
            $dto->setSlowDown(true);
            $dto->setErrorMessage($message);
            $dto->setErrorReason('userRateLimitExceeded');
            return $dto;
        };

        $success = new ActionResultingPushDto();
        $success->setActionCompleteCorrectly(true);

        $sleep = new ErrorSleepForPeriod();
        $sleep->setSleepPeriod(60 * 60 * 1_000_000);
        $daily = new ActionResultingPushDto();
        $daily->setActionCompleteCorrectly(false);
        $daily->setSleepForPeriod($sleep);
        $daily->setErrorMessage('Daily Limit Exceeded');
        $daily->setErrorReason('dailyLimitExceeded');

        $terminatedSubscribed = new PerformerEarlyTerminated();
        $terminatedSubscribed->setStandOnSubscription(true);

        $returnResult = new ReplyStackToPulsarReturnResultRequestDto();
        $returnResult->setConsiderMeAsSubscriber(7);

        $task = new PulsarToReplyStackReplyDto();
        $task->setSubscribersNumber(10);
        $task->setDtoToTransfer(new BecomeTheSubscriberReplyDto());

        return [
            '01_PreparingRequestDto.bin' => new PreparingRequestDto(),
            '02_BecomeTheSubscriberReplyDto.bin' => new BecomeTheSubscriberReplyDto(),
            '03_PublisherToSubscribersDto.bin' => new PublisherToSubscribersDto(),
            '04_CustomPublisherToSubscribersDto.bin' => new PulsarHarness\CustomPublisherToSubscribersDto(),
            '05_ReadyToGetSubscriptionMsg.bin' => new ReadyToGetSubscriptionMsg(),
            '06_PerformerEarlyTerminated_standOnSubscription_true.bin' => $terminatedSubscribed,
            '07_PerformerEarlyTerminated_standOnSubscription_false.bin' => new PerformerEarlyTerminated(),
            '08_ActionResultingPushDto_success.bin' => $success,
            '09_ActionResultingPushDto_slowDown_ascii.bin' => $slowDown('User Rate Limit Exceeded'),
            '10_ActionResultingPushDto_slowDown_ukrainian.bin' =>
                $slowDown('Перевищено ліміт запитів користувача: спробуйте пізніше'),
            '11_ActionResultingPushDto_sleepForPeriod_3600000000.bin' => $daily,
            '12_ReplyStackToPulsarGetTaskRequestDto.bin' => new ReplyStackToPulsarGetTaskRequestDto(),
            '13_ReplyStackToPulsarReturnResultRequestDto_7.bin' => $returnResult,
            '14_PulsarToReplyStackReplyDto_10.bin' => $task,
            '15_PulsarIterationFinish.bin' => new PulsarIterationFinish(),
        ];
    }

    /** A printable form in the manifest's style (NUL as \0), for mismatch messages. */
    function printable(string $bytes): string
    {
        return str_replace("\0", '\\0', $bytes);
    }

    /**
     * Compares one directory's vectors with our objects; returns the number of failures. The vector list is the
     * manifest's when there is one, else the directory's `.bin` files; either way it must be exactly ours.
     */
    function check_dir(string $dir, array $expected): int
    {
        $failures = 0;
        $checked = 0;
        $classes = [];
        if (is_file($dir . '/manifest.json')) {
            $manifest = json_decode((string) file_get_contents($dir . '/manifest.json'), true);
            if (!is_array($manifest)) {
                fwrite(STDERR, "BAD MANIFEST   $dir/manifest.json is not a JSON list\n");
                return 1;
            }
            foreach ($manifest as $entry) {
                $classes[(string) ($entry['file'] ?? '')] = (string) ($entry['class'] ?? '');
            }
        } else {
            foreach (glob($dir . '/*.bin') ?: [] as $path) {
                $classes[basename($path)] = null;
            }
        }

        // A vector without a PHP check is a failure, not a silent skip; so is a check without its vector.
        foreach (array_diff(array_keys($classes), array_keys($expected)) as $file) {
            fwrite(STDERR, "MISSING CHECK  $dir/$file: a vector this script does not build\n");
            $failures++;
        }
        foreach (array_diff(array_keys($expected), array_keys($classes)) as $file) {
            fwrite(STDERR, "MISSING VECTOR $dir/$file: built here but not in the directory\n");
            $failures++;
        }

        foreach ($classes as $file => $class) {
            if (!isset($expected[$file])) {
                continue;
            }
            $golden = @file_get_contents($dir . '/' . $file);
            if ($golden === false) {
                fwrite(STDERR, "UNREADABLE     $dir/$file\n");
                $failures++;
                continue;
            }
            $object = $expected[$file];
            $ours = serialize($object);
            $checked++;
            if ($ours !== $golden) {
                fwrite(STDERR, "MISMATCH       $dir/$file\n  golden: " . printable($golden) . "\n  ours:   "
                    . printable($ours) . "\n");
                $failures++;
                continue;
            }
            if ($class !== null && get_class($object) !== $class) {
                fwrite(STDERR, "CLASS          $dir/$file: manifest says $class, built " . get_class($object) . "\n");
                $failures++;
                continue;
            }
            // The way back, as a worker reads a reply or a pulse: same class, same bytes again.
            $decoded = unserialize($golden, ['allowed_classes' => PROTOCOL_CLASSES]);
            if (!is_object($decoded) || get_class($decoded) !== get_class($object)
                || serialize($decoded) !== $golden) {
                fwrite(STDERR, "ROUND TRIP     $dir/$file: unserialize() did not give the same object back\n");
                $failures++;
                continue;
            }
            fwrite(STDOUT, "ok             $dir/$file (" . strlen($golden) . " bytes)\n");
        }
        fwrite(STDOUT, "compared $checked vector(s) in $dir\n");
        return $failures;
    }

    $failures = 0;
    foreach (vectors_dirs($argv) as $dir) {
        $failures += check_dir($dir, expected_objects());
    }
    if ($failures > 0) {
        fwrite(STDERR, "check_vectors: $failures failure(s)\n");
        exit(1);
    }
    fwrite(STDOUT, "check_vectors: every vector matches byte for byte\n");
    exit(0);
}
