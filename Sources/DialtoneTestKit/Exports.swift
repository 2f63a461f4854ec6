@_exported import Config
