/**
 * Redis Cluster hashes only a key's hash tag when it has one: the part between the first
 * `{` and the first `}` after it, when that part is not empty. Every key of a queue is the
 * queue's name plus a suffix, so a name with a tag keeps all of them in one slot, which the
 * queue's scripts (and BLPOP over several queues) need.
 */

/** The hash tag of a key or queue name (`orders` for `{orders}:emails`), or undefined. */
export function hashTag(name: string): string | undefined {
  const open = name.indexOf('{');
  if (open === -1) return undefined;
  const close = name.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return undefined;
  return name.slice(open + 1, close);
}

/**
 * Why a queue name cannot be used on a Redis Cluster, or undefined. We do not add a tag
 * ourselves: the keys would then differ from the ones a Python or Go peer (which uses the
 * name as given) reads and writes, and the queue would silently split in two.
 */
export function clusterNameProblem(kind: string, name: string): string | undefined {
  if (hashTag(name) !== undefined) return undefined;
  const suggestion =
    name.includes('{') || name.includes('}') ? `{${name.replace(/[{}]/g, '')}}` : `{${name}}`;
  return `${kind} name ${JSON.stringify(name)} has no hash tag: on a Redis Cluster every key of a queue must live in one slot; name it ${JSON.stringify(suggestion)} (or put any tag in braces, as in "{app}:${name.replace(/[{}]/g, '')}"), and give peers the same name`;
}
