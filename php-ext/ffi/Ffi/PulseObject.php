<?php

declare(strict_types=1);

namespace React\PublisherPulsar\Ffi;

use React\PublisherPulsar\Inventory\PublisherToSubscribersDto;

/**
 * Turning a received pulse into the PHP object the Performer hands to the user, with the pulsar extension's rule
 * (php-ext/src/pulse.rs): network bytes become PHP objects here and nowhere else.
 *
 * libpulsar has already parsed the bytes strictly (the C ABI hands over only a pulse its codec accepted) and
 * reports the top object's class and, in its JSON view of the properties, every nested object's class (`__class`).
 * Each of those classes must be a valid class name, already declared in this worker (looked up without autoloading:
 * no autoloader ever sees a class name from the network), and PublisherToSubscribersDto or a subclass of it. Only then does PHP's own unserialize() build the object, with
 * `allowed_classes` set to exactly those classes, so that the user's subclass comes out exactly as the original's
 * unserialize() would give it (properties, visibility, __wakeup/__unserialize).
 *
 * This class must never call unserialize() without allowed_classes, nor allow a class it did not check.
 *
 * @internal
 */
final class PulseObject
{
    /** The key under which libpulsar's JSON view names a nested object's class. */
    private const CLASS_KEY = '__class';

    /** The bytes of the last pulse whose classes were checked, and those classes. */
    private static ?string $lastBytes = null;
    /** @var list<string> */
    private static array $lastAllowed = [];

    /**
     * The PHP object of a received pulse (a `struct PulsarPulse *`, still owned by the caller).
     *
     * @param \FFI\CData $pulse
     */
    public static function instantiate($pulse): PublisherToSubscribersDto
    {
        $ffi = Library::ffi();
        $data = $ffi->new('const uint8_t *');
        $length = $ffi->new('size_t');
        Library::check($ffi->pulsar_pulse_bytes($pulse, \FFI::addr($data), \FFI::addr($length)));
        $bytes = \FFI::string($data, $length->cdata);

        // A daemon publishes the same bytes with every pulse, and a class found allowed stays allowed (PHP never
        // undeclares a class): the checks of the last pulse hold for equal bytes.
        if ($bytes !== self::$lastBytes) {
            self::$lastAllowed = self::allowedClasses($pulse);
            self::$lastBytes = $bytes;
        }
        $object = unserialize($bytes, ['allowed_classes' => self::$lastAllowed]);
        if (!$object instanceof PublisherToSubscribersDto) {
            throw Failure::exception(
                Failure::PROTOCOL_ERROR,
                'unserialize() of the pulse did not give a PublisherToSubscribersDto'
            );
        }
        return $object;
    }

    /**
     * Every class the pulse names (its own, then nested objects' in libpulsar's JSON view), each checked.
     *
     * @param \FFI\CData $pulse
     * @return list<string>
     */
    private static function allowedClasses($pulse): array
    {
        $ffi = Library::ffi();
        $text = $ffi->new('const char *');
        Library::check($ffi->pulsar_pulse_class_name($pulse, \FFI::addr($text)));
        $classes = [\FFI::string($text)];
        Library::check($ffi->pulsar_pulse_properties_json($pulse, \FFI::addr($text)));
        $properties = json_decode(\FFI::string($text), true, 512, JSON_THROW_ON_ERROR);
        // The top object's own properties: a property of it named __class is data, not a class.
        foreach (is_array($properties) ? $properties : [] as $value) {
            self::collect($value, $classes);
        }
        $allowed = [];
        foreach (self::unique($classes) as $class) {
            $allowed[] = self::allowedClass($class);
        }
        return $allowed;
    }

    /**
     * Whether $name is a syntactically valid, fully qualified PHP class name (`Foo\Bar_1`, no leading `\`), the
     * check PHP itself makes before it asks an autoloader: no autoloader ever sees a path-like name from the network.
     */
    public static function isValidClassName(string $name): bool
    {
        return Classes::isValidClassName($name);
    }

    /**
     * $class, once checked. Looked up among the classes already declared, never through an autoloader: a name from
     * the network could make an autoloader include any file its map points to, or tell a prober which classes
     * exist. Only our own base class, by our own spelling of it, may be autoloaded.
     */
    private static function allowedClass(string $class): string
    {
        if (!self::isValidClassName($class)) {
            throw Failure::exception(Failure::PULSE_CLASS_NOT_ALLOWED, self::quoted($class) . ' is not a valid class name');
        }
        $base = Classes::pulseClass();
        $found = strcasecmp($class, $base) === 0 ? class_exists($base) : class_exists($class, false);
        if (!$found) {
            throw Failure::exception(
                Failure::PULSE_CLASS_NOT_ALLOWED,
                "class $class is not declared in this worker; declare the daemon's publisherToSubscribersDto class "
                . "before waiting for permission (e.g. class_exists(\\$class::class)): names from the network are "
                . 'never given to an autoloader'
            );
        }
        // Declared, so is_a() autoloads nothing.
        if (!is_a($class, $base, true)) {
            throw Failure::exception(Failure::PULSE_CLASS_NOT_ALLOWED, "$class is not \\$base or a subclass of it");
        }
        return $class;
    }

    /**
     * Every nested object's class in libpulsar's JSON view of the properties, in order.
     *
     * @param mixed $value
     * @param list<string> $classes
     */
    private static function collect($value, array &$classes): void
    {
        if (!is_array($value)) {
            return;
        }
        if (isset($value[self::CLASS_KEY]) && is_string($value[self::CLASS_KEY])) {
            $classes[] = $value[self::CLASS_KEY];
        }
        foreach ($value as $key => $item) {
            if ($key !== self::CLASS_KEY) {
                self::collect($item, $classes);
            }
        }
    }

    /**
     * @param list<string> $classes
     * @return list<string> first occurrence first, without case-insensitive duplicates (PHP's class names are)
     */
    private static function unique(array $classes): array
    {
        $seen = [];
        foreach ($classes as $class) {
            $seen[strtolower($class)] ??= $class;
        }
        return array_values($seen);
    }

    /** A name as Rust's `{:?}` shows it in the extension's message. */
    private static function quoted(string $name): string
    {
        $escaped = preg_replace_callback(
            '/["\\\\]|[\x00-\x1f\x7f]/',
            static function (array $m): string {
                $map = ['"' => '\\"', '\\' => '\\\\', "\n" => '\\n', "\r" => '\\r', "\t" => '\\t', "\0" => '\\0'];
                return $map[$m[0]] ?? sprintf('\\u{%x}', ord($m[0]));
            },
            $name
        );
        return '"' . $escaped . '"';
    }
}
