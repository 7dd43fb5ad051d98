% Text
% Qua, born April 4th, 1965, has never married. Her son Rex was born on January 1st, 1993 and has
% always lived with her in her house, whose costs ($15000 in 2017) she pays alone. Rex was paid
% $8000 in 2017 and Qua $60000. Nobody itemizes.
% By hand: on December 31st, 2017 Rex is 24, less than 25 (§152(c)(3)): Qua's qualifying child
% (income does not matter), so she is a head of household. $60,000 - $4,400 - $4,000 =
% $51,600: §1(b)(ii), $4,440 + 28% of $22,000 = $10,600.

% Question
% How much tax does qua have to pay in 2017? $10600

% Facts
:- [statutes/prolog/init].
son_(rex_is_quas_son).
agent_(rex_is_quas_son,rex).
patient_(rex_is_quas_son,qua).
residence_(qua_home).
agent_(qua_home,qua).
patient_(qua_home,quas_house).
start_(qua_home,"1990-01-01").
residence_(rex_home).
agent_(rex_home,rex).
patient_(rex_home,quas_house).
start_(rex_home,"1993-01-01").
payment_(qua_keeps_house).
agent_(qua_keeps_house,qua).
purpose_(qua_keeps_house,quas_house).
amount_(qua_keeps_house,15000).
start_(qua_keeps_house,"2017-06-30").
payment_(rex_paid).
patient_(rex_paid,rex).
amount_(rex_paid,8000).
start_(rex_paid,"2017-12-31").
payment_(qua_paid).
patient_(qua_paid,qua).
amount_(qua_paid,60000).
start_(qua_paid,"2017-12-31").
birth_(qua_born).
agent_(qua_born,qua).
start_(qua_born,"1965-04-04").
birth_(rex_born).
agent_(rex_born,rex).
start_(rex_born,"1993-01-01").

% Test
:- tax(qua,2017,10600).
:- halt.
