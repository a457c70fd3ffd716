"""torch.hub: publish and load models through a `hubconf.py`, and download checkpoints.

A hub repository is a directory (a GitHub repository, or a local folder) whose `hubconf.py`
defines entry points: functions returning models, usually with pretrained weights fetched by
`load_state_dict_from_url`. nbgrad follows PyTorch's hub step for step: the same cache layout
under `get_dir()` (TORCH_HOME, else $XDG_CACHE_HOME/torch, else ~/.cache/torch, then `hub`), the
same trust list, the same messages. The cache is PyTorch's own, on purpose: checkpoints are
PyTorch's file format, so a file either library downloaded serves both.

A hubconf runs as written: entry points meant for nbgrad import nbgrad (`import nbgrad as
torch`); a PyTorch repository's hubconf imports PyTorch and its own packages (torchvision...).
Downloads are atomic (a temporary file renamed into place once complete and checked), and
archives are extracted only inside the hub directory.
"""
import contextlib
import errno
import hashlib
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import uuid
import warnings
import zipfile
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse
from urllib.request import Request, urlopen

from ._hub_progress import tqdm  # noqa: F401  (torch.hub.tqdm: torchvision imports it)

__all__ = ['download_url_to_file', 'get_dir', 'help', 'list', 'load',
           'load_state_dict_from_url', 'set_dir']

MODULE_HUBCONF = 'hubconf.py'
VAR_DEPENDENCY = 'dependencies'
ENV_TORCH_HOME = 'TORCH_HOME'
ENV_XDG_CACHE_HOME = 'XDG_CACHE_HOME'
ENV_GITHUB_TOKEN = 'GITHUB_TOKEN'
DEFAULT_CACHE_DIR = '~/.cache'
HASH_REGEX = re.compile(r'-([a-f0-9]*)\.')     # resnet18-5c106cde.pth: a sha256 prefix
READ_DATA_CHUNK = 128 * 1024
_TRUSTED_REPO_OWNERS = ('facebookresearch', 'facebookincubator', 'pytorch', 'fairinternal')
_PATH_SEP_PATTERN = r'[/\\]'

_hub_dir = None     # set_dir's choice, which wins over the environment


# -- where things go -----------------------------------------------------------------------------

def _get_torch_home():
    return os.path.expanduser(os.getenv(
        ENV_TORCH_HOME, os.path.join(os.getenv(ENV_XDG_CACHE_HOME, DEFAULT_CACHE_DIR), 'torch')))


def get_dir():
    """The hub's cache directory: set_dir's, else $TORCH_HOME/hub (by default
    ~/.cache/torch/hub)."""
    if os.getenv('TORCH_HUB'):
        warnings.warn('TORCH_HUB is deprecated, please use env TORCH_HOME instead', stacklevel=2)
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_get_torch_home(), 'hub')


def set_dir(d):
    """Use directory d for the hub's downloads from now on."""
    global _hub_dir
    _hub_dir = os.path.expanduser(d)


# -- entry points ----------------------------------------------------------------------------------

def list(github, force_reload=False, skip_validation=False, trust_repo='check',  # noqa: A001
         verbose=True):
    """The entry points (public callables) of a GitHub repository's hubconf.py."""
    repo_dir = _get_cache_or_reload(github, force_reload, trust_repo, verbose=verbose,
                                    skip_validation=skip_validation)
    hub_module = _import_hubconf(repo_dir)
    return [name for name in dir(hub_module)
            if callable(getattr(hub_module, name)) and not name.startswith('_')]


def help(github, model, force_reload=False, skip_validation=False,  # noqa: A001
         trust_repo='check'):
    """The docstring of one entry point of a GitHub repository's hubconf.py."""
    repo_dir = _get_cache_or_reload(github, force_reload, trust_repo, verbose=True,
                                    skip_validation=skip_validation)
    return _load_entry_from_hubconf(_import_hubconf(repo_dir), model).__doc__


def load(repo_or_dir, model, *args, source='github', trust_repo='check', force_reload=False,
         verbose=True, skip_validation=False, **kwargs):
    """Call entry point `model` of a repository's hubconf.py with *args and **kwargs: from
    GitHub ('owner/name[:ref]', downloaded into the cache once) or a local directory
    (source='local')."""
    source = source.lower()
    if source not in ('github', 'local'):
        raise ValueError(f'Unknown source: "{source}". Allowed values: "github" | "local".')
    if source == 'github':
        repo_or_dir = _get_cache_or_reload(repo_or_dir, force_reload, trust_repo,
                                           verbose=verbose, skip_validation=skip_validation)
    return _load_local(repo_or_dir, model, *args, **kwargs)


def _load_local(hubconf_dir, model, *args, **kwargs):
    with _add_to_sys_path(hubconf_dir):
        hub_module = _import_module(MODULE_HUBCONF, os.path.join(hubconf_dir, MODULE_HUBCONF))
        entry = _load_entry_from_hubconf(hub_module, model)
        return entry(*args, **kwargs)


def _import_hubconf(repo_dir):
    with _add_to_sys_path(repo_dir):
        return _import_module(MODULE_HUBCONF, os.path.join(repo_dir, MODULE_HUBCONF))


@contextlib.contextmanager
def _add_to_sys_path(path):
    """The repository's own modules importable while its hubconf runs (and only then)."""
    sys.path.insert(0, path)
    try:
        yield
    finally:
        sys.path.remove(path)


def _import_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None:
        raise AssertionError(f'failed to load spec from {path}')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load_attr_from_module(module, name):
    return getattr(module, name) if name in dir(module) else None


def _load_entry_from_hubconf(module, model):
    if not isinstance(model, str):
        raise ValueError('Invalid input: model should be a string of function name')
    dependencies = _load_attr_from_module(module, VAR_DEPENDENCY)
    if dependencies is not None:
        missing = [pkg for pkg in dependencies if importlib.util.find_spec(pkg) is None]
        if missing:
            raise RuntimeError(f"Missing dependencies: {', '.join(missing)}")
    entry = _load_attr_from_module(module, model)
    if entry is None or not callable(entry):
        raise RuntimeError(f'Cannot find callable {model} in hubconf')
    return entry


# -- GitHub repositories ---------------------------------------------------------------------------

def _git_archive_link(repo_owner, repo_name, ref):
    return f'https://github.com/{repo_owner}/{repo_name}/zipball/{ref}'


def _parse_repo_info(github):
    """(owner, name, ref) of 'owner/name[:ref]'; without a ref, 'main' if the repository has
    it, else 'master' (offline: whichever of the two the cache holds)."""
    repo_info, ref = github.split(':') if ':' in github else (github, None)
    repo_owner, repo_name = repo_info.split('/')
    if ref is None:
        try:
            with urlopen(f'https://github.com/{repo_owner}/{repo_name}/tree/main/'):
                ref = 'main'
        except HTTPError as e:
            if e.code != 404:
                raise
            ref = 'master'
        except URLError as e:
            for possible in ('main', 'master'):
                if os.path.exists(f'{get_dir()}/{repo_owner}_{repo_name}_{possible}'):
                    ref = possible
                    break
            if ref is None:
                raise RuntimeError('It looks like there is no internet connection and the repo '
                                   f'could not be found in the cache ({get_dir()})') from e
    return repo_owner, repo_name, ref


def _check_repo_is_trusted(repo_owner, repo_name, owner_name_branch, trust_repo):
    """PyTorch's trust list (hub_dir/trusted_list): a repository runs code here only once
    trusted, by trust_repo=True, an answer at the prompt, an earlier download or its owner."""
    hub_dir = get_dir()
    path = os.path.join(hub_dir, 'trusted_list')
    if not os.path.exists(path):
        Path(path).touch()
    with open(path) as file:
        trusted = tuple(line.strip() for line in file)
    downloaded = next(os.walk(hub_dir))[1]
    owner_name = f'{repo_owner}_{repo_name}'
    is_trusted = (owner_name in trusted or owner_name_branch in downloaded
                  or repo_owner in _TRUSTED_REPO_OWNERS)
    if trust_repo is False or (trust_repo == 'check' and not is_trusted):
        response = input(
            f'The repository {owner_name} does not belong to the list of trusted repositories '
            'and as such cannot be downloaded. Do you trust this repository and wish to add it '
            'to the trusted list of repositories (y/N)?')
        if response.lower() in ('y', 'yes'):
            if is_trusted:
                print('The repository is already trusted.')
        elif response.lower() in ('n', 'no', ''):
            raise Exception('Untrusted repository.')  # noqa: TRY002 (PyTorch's exception)
        else:
            raise ValueError(f'Unrecognized response {response}.')
    if not is_trusted:
        with open(path, 'a') as file:
            file.write(owner_name + '\n')


def _read_url(url):
    with urlopen(url) as response:
        return response.read().decode(response.headers.get_content_charset('utf-8'))


def _validate_not_a_forked_repo(repo_owner, repo_name, ref):
    """The ref must be a branch, tag or commit of the repository itself (GitHub's API)."""
    headers = {'Accept': 'application/vnd.github.v3+json'}
    token = os.environ.get(ENV_GITHUB_TOKEN)
    if token is not None:
        headers['Authorization'] = f'token {token}'
    for url_prefix in (f'https://api.github.com/repos/{repo_owner}/{repo_name}/branches',
                       f'https://api.github.com/repos/{repo_owner}/{repo_name}/tags'):
        page = 0
        while True:
            page += 1
            url = f'{url_prefix}?per_page=100&page={page}'
            try:
                response = json.loads(_read_url(Request(url, headers=headers)))
            except HTTPError:   # retry without a token that lacks the permission
                headers.pop('Authorization', None)
                response = json.loads(_read_url(Request(url, headers=headers)))
            if not response:
                break
            if any(br['name'] == ref or br['commit']['sha'].startswith(ref) for br in response):
                return
    raise ValueError(f"Cannot find {ref} in https://github.com/{repo_owner}/{repo_name}. If it's "
                     f'a commit from a forked repo, please call hub.load() with forked repo '
                     f'directly.')


def _get_cache_or_reload(github, force_reload, trust_repo, verbose=True, skip_validation=False):
    """The repository's directory in the cache (hub_dir/owner_name_ref), downloaded and
    unpacked first when missing or force_reload."""
    hub_dir = get_dir()
    os.makedirs(hub_dir, exist_ok=True)
    repo_owner, repo_name, ref = _parse_repo_info(github)
    normalized_ref = ref.replace('/', '_')      # branch names may hold slashes
    owner_name_branch = '_'.join([repo_owner, repo_name, normalized_ref])
    repo_dir = os.path.join(hub_dir, owner_name_branch)
    _check_repo_is_trusted(repo_owner, repo_name, owner_name_branch, trust_repo)
    if not force_reload and os.path.exists(repo_dir):
        if verbose:
            sys.stderr.write(f'Using cache found in {repo_dir}\n')
        return repo_dir
    if not skip_validation:
        _validate_not_a_forked_repo(repo_owner, repo_name, ref)
    cached_file = os.path.join(hub_dir, normalized_ref + '.zip')
    _remove_if_exists(cached_file)
    url = _git_archive_link(repo_owner, repo_name, ref)
    sys.stdout.write(f'Downloading: "{url}" to {cached_file}\n')
    try:
        download_url_to_file(url, cached_file, progress=False)
    except HTTPError as err:
        if err.code != 300:
            raise
        # 300 Multiple Choices: the ref is both a tag and a branch; take the branch, as git does
        warnings.warn(f"The ref {ref} is ambiguous. Perhaps it is both a tag and a branch in the "
                      f"repo? Torchhub will now assume that it's a branch. You can disambiguate "
                      f'tags and branches by explicitly passing refs/heads/branch_name or '
                      f'refs/tags/tag_name as the ref. That might require using '
                      f'skip_validation=True.', stacklevel=2)
        url = _git_archive_link(repo_owner, repo_name, f'refs/heads/{ref}')
        download_url_to_file(url, cached_file, progress=False)
    with zipfile.ZipFile(cached_file) as archive:
        extracted = os.path.join(hub_dir, archive.infolist()[0].filename)
        _remove_if_exists(extracted)
        _safe_extract_zip(archive, hub_dir)
    _remove_if_exists(cached_file)
    _remove_if_exists(repo_dir)
    shutil.move(extracted, repo_dir)
    return repo_dir


def _remove_if_exists(path):
    if os.path.isfile(path):
        os.remove(path)
    elif os.path.exists(path):
        shutil.rmtree(path)


def _safe_extract_zip(archive, extract_to):
    """Extract every member, refusing absolute paths and any that would land outside."""
    extract_to = Path(extract_to).resolve(strict=False)
    for member in archive.infolist():
        name = os.path.normpath(member.filename)
        if name.startswith(('/', '\\')) or (len(name) >= 2 and name[1] == ':' and
                                              name[0].isalpha()):
            raise ValueError(f'Archive entry has absolute path: {member.filename}')
        if '..' in re.split(_PATH_SEP_PATTERN, name):
            raise ValueError(f'Archive entry contains directory traversal: {member.filename}')
        if not (extract_to / name).resolve(strict=False).is_relative_to(extract_to):
            raise ValueError(f'Archive entry escapes target directory: {member.filename}')
        archive.extract(member, extract_to)


# -- downloads -------------------------------------------------------------------------------------

def download_url_to_file(url, dst, hash_prefix=None, progress=True):
    """Download url to the file dst: into a temporary file beside it, renamed once complete and
    (with hash_prefix) once its SHA-256 digest starts with hash_prefix, so a failed or broken
    download never replaces or leaves a file at dst."""
    dst = os.path.expanduser(dst)
    for _ in range(tempfile.TMP_MAX):
        tmp_dst = dst + '.' + uuid.uuid4().hex + '.partial'
        try:
            f = open(tmp_dst, 'x+b')    # noqa: SIM115 (closed below, on every path)
        except FileExistsError:
            continue
        break
    else:
        raise FileExistsError(errno.EEXIST, 'No usable temporary file name found')
    request = Request(url, headers={'User-Agent': 'torch.hub'})
    try:
        with urlopen(request) as response:
            lengths = response.info().get_all('Content-Length')
            size = int(lengths[0]) if lengths else None
            sha256 = hashlib.sha256() if hash_prefix is not None else None
            with _progress_bar(size, progress) as bar:
                while True:
                    chunk = response.read(READ_DATA_CHUNK)
                    if not chunk:
                        break
                    f.write(chunk)
                    if sha256 is not None:
                        sha256.update(chunk)
                    bar.update(len(chunk))
            f.close()
            if sha256 is not None:
                digest = sha256.hexdigest()
                if digest[:len(hash_prefix)] != hash_prefix:
                    raise RuntimeError(
                        f'invalid hash value (expected "{hash_prefix}", got "{digest}")')
        shutil.move(f.name, dst)
    finally:
        f.close()
        if os.path.exists(f.name):
            os.remove(f.name)


class _NoProgress:
    def __init__(self, total=None, disable=False, **kwargs):
        pass

    def update(self, n):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _progress_bar(total, enabled):
    """tqdm's bar when tqdm is installed (as PyTorch's), else none."""
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = _NoProgress
    return tqdm(total=total, disable=not enabled, unit='B', unit_scale=True, unit_divisor=1024)


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True,
                             check_hash=False, file_name=None, weights_only=False):
    """The object saved at url (a state_dict, usually), downloaded into model_dir (default
    get_dir()/checkpoints) on first use and read from there after. With check_hash, the file
    name's '-<hex>.' part must begin the file's SHA-256 digest (PyTorch's naming:
    resnet18-5c106cde.pth)."""
    if os.getenv('TORCH_MODEL_ZOO'):
        warnings.warn('TORCH_MODEL_ZOO is deprecated, please use env TORCH_HOME instead',
                      stacklevel=2)
    if model_dir is None:
        model_dir = os.path.join(get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name if file_name is not None else os.path.basename(urlparse(url).path)
    cached_file = os.path.join(model_dir, filename)
    if not os.path.exists(cached_file):
        sys.stdout.write(f'Downloading: "{url}" to {cached_file}\n')
        hash_prefix = None
        if check_hash:
            match = HASH_REGEX.search(filename)
            hash_prefix = match.group(1) if match else None
        download_url_to_file(url, cached_file, hash_prefix, progress=progress)
    from .serialization import load as _load
    if _is_legacy_zip_format(cached_file):
        return _legacy_zip_load(cached_file, model_dir, map_location, weights_only, _load)
    return _load(cached_file, map_location=map_location, weights_only=weights_only)


def _is_legacy_zip_format(filename):
    """A zip holding one file (PyTorch < 1.6 published checkpoints that way)."""
    if zipfile.is_zipfile(filename):
        with zipfile.ZipFile(filename) as archive:
            members = archive.infolist()
        return len(members) == 1 and not members[0].is_dir()
    return False


def _legacy_zip_load(filename, model_dir, map_location, weights_only, load):
    warnings.warn('Falling back to the old format < 1.6. This support will be deprecated in '
                  'favor of default zipfile format introduced in 1.6. Please redo torch.save() '
                  'to save it in the new zipfile format.', FutureWarning, stacklevel=3)
    with zipfile.ZipFile(filename) as archive:
        members = archive.infolist()
        if len(members) != 1:
            raise RuntimeError('Only one file(not dir) is allowed in the zipfile')
        _safe_extract_zip(archive, model_dir)
        extracted = os.path.join(model_dir, members[0].filename)
    return load(extracted, map_location=map_location, weights_only=weights_only)
