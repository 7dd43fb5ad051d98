% Text
% Rex employed Sue from January 2nd to February 10th, 2017 (paid $600) and Tom from January 20th to
% February 20th, 2017 (paid $500).
% By hand: Sue's days fall in 6 calendar weeks (weeks of Jan 1 to Feb 5); Tom's add only the weeks
% of Feb 12 and Feb 19: 8 weeks, fewer than 10 (§3306(a)(1)(B)); employing two people the same week
% counts once.

% Question
% Section 3306(a)(1)(B) applies to Rex for the year 2017. Contradiction

% Facts
:- [statutes/prolog/init].
service_(sue_works).
agent_(sue_works,sue).
patient_(sue_works,rex).
start_(sue_works,"2017-01-02").
end_(sue_works,"2017-02-10").
payment_(rex_pays_sue).
agent_(rex_pays_sue,rex).
patient_(rex_pays_sue,sue).
purpose_(rex_pays_sue,sue_works).
amount_(rex_pays_sue,600).
start_(rex_pays_sue,"2017-02-10").
service_(tom_works).
agent_(tom_works,tom).
patient_(tom_works,rex).
start_(tom_works,"2017-01-20").
end_(tom_works,"2017-02-20").
payment_(rex_pays_tom).
agent_(rex_pays_tom,rex).
patient_(rex_pays_tom,tom).
purpose_(rex_pays_tom,tom_works).
amount_(rex_pays_tom,500).
start_(rex_pays_tom,"2017-02-20").

% Test
:- \+ s3306_a_1_B(rex,2017).
:- halt.
