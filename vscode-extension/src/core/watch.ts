/**
 * Which file events the server gets from the client's own watchers: every deployment file, and
 * every file under a profile root that holds one (`.agents/agents/x.md`), so the server can
 * re-analyse drift. A dot-directory without a deployment file (`.git`, `.venv`) is not watched,
 * and SkillMeat's lock, temp and swap-aside siblings are left out (they come and go on every write).
 */
import { isDeploymentFile, isSkillmeatSibling, profileRootOf } from './profiles';

function parts(fsPath: string): string[] {
  return fsPath.split(/[\\/]+/).filter((part, index) => part !== '' || index === 0);
}

/** The part of `fsPath` below `root` (by segments), or undefined when it is not below it. */
function below(root: string, fsPath: string): string[] | undefined {
  const base = parts(root);
  const full = parts(fsPath);
  if (full.length <= base.length || base.some((part, index) => part !== full[index])) {
    return undefined;
  }
  return full.slice(base.length);
}

/** Should an event of the watcher of profile root `root` on `fsPath` reach the server? */
export function forwardRootEvent(root: string, fsPath: string): boolean {
  const rest = below(root, fsPath);
  if (!rest) {
    return false;
  }
  // The deployment file itself is reported by the deployment file watcher.
  if (rest.length === 1 && isDeploymentFile(fsPath)) {
    return false;
  }
  return !rest.some(isSkillmeatSibling);
}

/** The profile roots known to hold a deployment file, from the deployment files seen. */
export class ProfileRootIndex {
  private readonly filesByRoot = new Map<string, Set<string>>();

  /** Records a deployment file; returns its profile root when that root is new. */
  add(file: string): string | undefined {
    const ref = profileRootOf(file);
    if (!ref) {
      return undefined;
    }
    let files = this.filesByRoot.get(ref.rootPath);
    const isNew = files === undefined;
    if (!files) {
      files = new Set();
      this.filesByRoot.set(ref.rootPath, files);
    }
    files.add(file);
    return isNew ? ref.rootPath : undefined;
  }

  /** Forgets a deployment file; returns its profile root when that root holds no other one. */
  remove(file: string): string | undefined {
    const ref = profileRootOf(file);
    const files = ref ? this.filesByRoot.get(ref.rootPath) : undefined;
    if (!ref || !files) {
      return undefined;
    }
    files.delete(file);
    if (files.size > 0) {
      return undefined;
    }
    this.filesByRoot.delete(ref.rootPath);
    return ref.rootPath;
  }

  has(root: string): boolean {
    return this.filesByRoot.has(root);
  }

  roots(): string[] {
    return [...this.filesByRoot.keys()].sort();
  }
}
