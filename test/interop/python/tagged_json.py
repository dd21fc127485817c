"""Tagged JSON: the value notation shared by the interop harnesses (Python, Go, Node).

Plain JSON is used for null, booleans, strings, arrays and objects with string keys.
Everything JSON cannot carry without loss gets a one-key tag object:

* integers: a plain JSON number when |n| <= 2**53 - 1, otherwise {"$int": "<decimal>"}
* floats: always {"$float": <number>}, so 1.0 stays a float; the non-finite values are
  written as {"$float": "NaN"}, {"$float": "Infinity"} and {"$float": "-Infinity"}
* bytes: {"$bytes": "<lowercase hex>"}
* (extension) a map with a key that is not a string: {"$map": [[key, value], ...]}

Decoding is lenient: a bare JSON number with a fraction or exponent becomes a float.
"""

import json
import math
import sys

# The value matrix nests arrays 500 deep (the peers' msgpack goes to 1,024); converting
# them here recurses twice per level, past Python's default limit of 1,000 frames.
sys.setrecursionlimit(10_000)

MAX_SAFE_INTEGER = 2 ** 53 - 1

_FLOAT_WORDS = {
    'NaN': math.nan,
    'Infinity': math.inf,
    '-Infinity': -math.inf,
}


def to_tagged(value):
    """Converts a Python value (as produced by msgpack) to its tagged-JSON form."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return value
        return {'$int': str(value)}
    if isinstance(value, float):
        if math.isnan(value):
            return {'$float': 'NaN'}
        if math.isinf(value):
            return {'$float': 'Infinity' if value > 0 else '-Infinity'}
        return {'$float': value}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {'$bytes': bytes(value).hex()}
    if isinstance(value, (list, tuple)):
        return [to_tagged(item) for item in value]
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value):
            return {key: to_tagged(item) for key, item in value.items()}
        return {'$map': [[to_tagged(key), to_tagged(item)] for key, item in value.items()]}
    raise TypeError('cannot tag a value of type %s' % type(value).__name__)


def _hashable(value):
    if isinstance(value, list):
        return tuple(_hashable(item) for item in value)
    return value


def from_tagged(value):
    """Converts a tagged-JSON value (already parsed by json.loads) to a Python value."""
    if isinstance(value, list):
        return [from_tagged(item) for item in value]
    if isinstance(value, dict):
        if len(value) == 1:
            (key, inner), = value.items()
            if key == '$int':
                return int(inner)
            if key == '$float':
                if isinstance(inner, str):
                    return _FLOAT_WORDS[inner]
                return float(inner)
            if key == '$bytes':
                return bytes.fromhex(inner)
            if key == '$map':
                return {_hashable(from_tagged(k)): from_tagged(v) for k, v in inner}
        return {key: from_tagged(item) for key, item in value.items()}
    return value


def loads(text):
    """Parses tagged JSON text."""
    return from_tagged(json.loads(text))


def dumps(value):
    """Serializes a Python value as compact tagged JSON text."""
    return json.dumps(to_tagged(value), ensure_ascii=False, separators=(',', ':'), allow_nan=False)
