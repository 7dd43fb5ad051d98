% Text
% Omar, born April 11th, 1970, has never married. His daughter Lena was born on September 30th,
% 2005, and has lived with him in his house ever since; Omar pays all its costs ($21000 in 2017).
% Omar's salary for 2017 was $291000; he does not itemize.
% By hand: Lena is Omar's qualifying child, so Omar is a head of household (§2(b)(1)(A)(i)).
% Standard deduction $4,400 (§63(c)(2)(B)). AGI exceeds the §68(b)(1)(B) amount of $275,000 by
% $16,000: 7 steps of $2,500 (6.4, a fraction counts), 14% (§151(d)(3)): two exemptions of $1,720,
% $3,440. Taxable income $283,160: §1(b)(v), $77,485 + 39.6% of $33,160 = $90,616.36.

% Question
% How much tax does Omar have to pay in 2017? $90616

% Facts
:- [statutes/prolog/init].
birth_(omar_born).
agent_(omar_born,omar).
start_(omar_born,"1970-04-11").
daughter_(lena_is_omars_daughter).
agent_(lena_is_omars_daughter,lena).
patient_(lena_is_omars_daughter,omar).
start_(lena_is_omars_daughter,"2005-09-30").
residence_(omar_lives_home).
agent_(omar_lives_home,omar).
patient_(omar_lives_home,omars_house).
start_(omar_lives_home,"2005-01-01").
residence_(lena_lives_home).
agent_(lena_lives_home,lena).
patient_(lena_lives_home,omars_house).
start_(lena_lives_home,"2005-09-30").
payment_(omar_pays_upkeep_2017).
agent_(omar_pays_upkeep_2017,omar).
purpose_(omar_pays_upkeep_2017,omars_house).
amount_(omar_pays_upkeep_2017,21000).
start_(omar_pays_upkeep_2017,"2017-12-01").
income_(omar_salary_2017).
agent_(omar_salary_2017,omar).
amount_(omar_salary_2017,291000).
start_(omar_salary_2017,"2017-12-31").

% Test
:- tax(omar,2017,90616).
:- halt.
