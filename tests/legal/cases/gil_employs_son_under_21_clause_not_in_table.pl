% Text
% Gil, who is divorced, owns a hardware store. His son Hal, born on 2000-03-14, lives with his
% mother Ines and had a summer job at Gil's store from 2017-06-19 to 2017-08-25, for which Gil
% paid him $3,000 on 2017-08-25.
% By hand: Hal is a child under the age of 21 in the employ of his father: §3306(c)(5). No
% training case asks about (c)(5): the clause is placed by kind, the service being the one Hal
% performs for Gil (the question names the people, employer first, as the dataset does).

% Question
% Section 3306(c)(5) applies to Gil employing Hal for the year 2017. Entailment

% Facts
:- [statutes/prolog/init].
son_(hal_is_gils_son).
agent_(hal_is_gils_son,hal).
patient_(hal_is_gils_son,gil).
patient_(hal_is_gils_son,ines).
start_(hal_is_gils_son,"2000-03-14").
birth_(hal_born).
agent_(hal_born,hal).
start_(hal_born,"2000-03-14").
residence_(hal_with_mother).
agent_(hal_with_mother,hal).
agent_(hal_with_mother,ines).
patient_(hal_with_mother,ines_house).
start_(hal_with_mother,"2008-01-01").
service_(hal_summer_job).
agent_(hal_summer_job,hal).
patient_(hal_summer_job,gil).
start_(hal_summer_job,"2017-06-19").
end_(hal_summer_job,"2017-08-25").
payment_(gil_pays_hal).
agent_(gil_pays_hal,gil).
patient_(gil_pays_hal,hal).
purpose_(gil_pays_hal,hal_summer_job).
amount_(gil_pays_hal,3000).
start_(gil_pays_hal,"2017-08-25").
income_(gil_store_income).
agent_(gil_store_income,gil).
amount_(gil_store_income,50000).
start_(gil_store_income,"2017-12-31").

% Test
:- s3306_c_5(_,gil,hal,2017).
:- halt.
