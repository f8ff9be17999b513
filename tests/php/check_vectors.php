<?php
/**
 * Proves that OriginalProtocol.php reproduces the original library's bytes: builds every golden vector's object
 * the way the original code does (`new`, then the seeds' setters) and compares `serialize()` with the `.bin`
 * file byte for byte. Also checks that each vector unserializes (restricted to the protocol classes) back into
 * the same class and re-serializes to the same bytes.
 *
 * Usage: php check_vectors.php [VECTORS_DIR]
 *   VECTORS_DIR defaults to $PULSAR_VECTORS_DIR, else the first existing of the known locations below.
 * Exit status: 0 when every vector matches, 1 on any mismatch or missing vector, 2 on a usage problem.
 *
 * It must never write to the vectors directory: the `.bin` files are authoritative, this script only reads.
 */

declare(strict_types=1);

namespace PulsarHarness {

    // Loaded first: the harness subclass below extends one of its classes.
    require_once __DIR__ . '/OriginalProtocol.php';

    use React\PublisherPulsar\Inventory\PublisherToSubscribersDto;

    /** The user subclass of vector 04: inherited protected allowAction, then a public and a protected field. */
    class CustomPublisherToSubscribersDto extends PublisherToSubscribersDto
    {
        /** @var string */
        public $command = 'slow-down-please';

        /** @var string */
        protected $secretToken = 't0ken';
    }
}

namespace {

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

    function vectors_dir(array $argv): string
    {
        $candidates = [];
        if (isset($argv[1])) {
            $candidates[] = $argv[1];
        } elseif (($env = getenv('PULSAR_VECTORS_DIR')) !== false && $env !== '') {
            $candidates[] = $env;
        } else {
            // The repository's copy (if the codec's tests keep one) first, then the shared spec.
            $candidates = [
                __DIR__ . '/../fixtures/vectors',
                __DIR__ . '/../../rust/wire/tests/vectors',
                '/work/shared/protocol/vectors',
            ];
        }
        foreach ($candidates as $dir) {
            if (is_file($dir . '/manifest.json')) {
                return $dir;
            }
        }
        fail_usage('no vectors directory with a manifest.json among: ' . implode(', ', $candidates)
            . ' (pass one as the first argument or set PULSAR_VECTORS_DIR)');
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
        $sleep->setSleepPeriod(60 * 60 * 1000000);
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

    $dir = vectors_dir($argv);
    $manifest = json_decode((string) file_get_contents($dir . '/manifest.json'), true);
    if (!is_array($manifest)) {
        fail_usage("$dir/manifest.json is not a JSON list");
    }

    $expected = expected_objects();
    $failures = 0;
    $checked = 0;

    // Every vector in the manifest must have an object here, and every object here a vector: a vector added to
    // the spec without a PHP check is a failure, not a silent skip.
    $inManifest = array_column($manifest, 'file');
    foreach (array_diff($inManifest, array_keys($expected)) as $file) {
        fwrite(STDERR, "MISSING CHECK  $file: in the manifest but not built by this script\n");
        $failures++;
    }
    foreach (array_diff(array_keys($expected), $inManifest) as $file) {
        fwrite(STDERR, "MISSING VECTOR $file: built here but not in the manifest\n");
        $failures++;
    }

    foreach ($manifest as $entry) {
        $file = $entry['file'] ?? '';
        if (!isset($expected[$file])) {
            continue;
        }
        $golden = @file_get_contents($dir . '/' . $file);
        if ($golden === false) {
            fwrite(STDERR, "UNREADABLE     $file\n");
            $failures++;
            continue;
        }
        $object = $expected[$file];
        $ours = serialize($object);
        $checked++;
        if ($ours !== $golden) {
            fwrite(STDERR, "MISMATCH       $file\n  golden: " . printable($golden) . "\n  ours:   "
                . printable($ours) . "\n");
            $failures++;
            continue;
        }
        if (get_class($object) !== ($entry['class'] ?? '')) {
            fwrite(STDERR, "CLASS          $file: manifest says {$entry['class']}, built " . get_class($object) . "\n");
            $failures++;
            continue;
        }
        // The way back, as a worker reads a reply or a pulse: same class, same bytes again.
        $decoded = unserialize($golden, ['allowed_classes' => PROTOCOL_CLASSES]);
        if (!is_object($decoded) || get_class($decoded) !== get_class($object) || serialize($decoded) !== $golden) {
            fwrite(STDERR, "ROUND TRIP     $file: unserialize() did not give the same object back\n");
            $failures++;
            continue;
        }
        fwrite(STDOUT, "ok             $file (" . strlen($golden) . " bytes)\n");
    }

    if ($failures > 0) {
        fwrite(STDERR, "check_vectors: $failures failure(s), $checked vector(s) compared, in $dir\n");
        exit(1);
    }
    fwrite(STDOUT, "check_vectors: all $checked vectors match byte for byte ($dir)\n");
    exit(0);
}
